"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py app:app` behind nginx.

Sync workers, because a worker that stops answering is then killed after `timeout` seconds: the
issue's rule that no request holds a worker for more than 10 s is enforced here as a last resort
(templates, sheets and webhooks have their own, earlier limits). Each worker's address space is
capped too, so one runaway request ends in a MemoryError for itself, not in the kernel's OOM killer
picking a neighbour. Before the first worker starts, the master runs `flask check` and refuses
to start on a failing check. Every number can be overridden from the environment.
"""
import gc
import multiprocessing
import os
import resource

from matrix.ops.logs import FORMAT

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")  # nginx in front, on the same machine
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "10"))
graceful_timeout = 20
keepalive = 2
max_requests = 2000            # recycle workers now and then: a slow leak never grows for long
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Address space per worker above what it holds once the app is loaded (numpy, scipy included).
WORKER_EXTRA_MB = int(os.environ.get("WORKER_EXTRA_MB", "768"))

accesslog = "-"
errorlog = "-"
# The path without its query string (a search may hold a phone number), and the request id.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "matrix.ops.logs.RequestLogFilter"}},
    "formatters": {"plain": {"format": FORMAT}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request"]}},
    "root": {"level": os.environ.get("LOG_LEVEL", "INFO"), "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "alembic": {"level": "WARNING"},  # /readyz reads the schema's revision on every probe
    },
}


def on_starting(server):
    """Refuse to start with a configuration `flask check` fails (set STOREMATRIX_SKIP_CHECK=1 to override)."""
    if os.environ.get("STOREMATRIX_SKIP_CHECK") == "1":
        return
    from matrix import create_app
    from matrix.ops.check import run_checks

    app = create_app()
    with app.app_context():
        failed = [c for c in run_checks(app) if not c.ok]
    for item in failed:
        server.log.error("flask check: %s failed: %s", item.name, item.detail)
    if failed:
        raise SystemExit(f"{len(failed)} check(s) failed; run `flask --app app check`.")


def post_worker_init(worker):
    """Once the app is loaded: move its objects out of the collector's way and cap the address space."""
    # The app is loaded after the fork (no preload), so this is the first moment its hundreds of thousands of
    # import-time objects (modules, models, numpy, scipy) exist: frozen, a full collection pass triggered by a
    # page's thousands of ORM rows no longer walks them all (it cost 90-170 ms on the heaviest pages).
    gc.freeze()
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    limit = size_kb * 1024 + WORKER_EXTRA_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
