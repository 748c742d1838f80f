"""Settings classes. Every value that differs between machines comes from the environment."""
import os
import secrets
from pathlib import Path


def _instance_secret_key(instance_path: str) -> str:
    """Generate a development secret once and keep it in the instance folder."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _instance_lead_key(instance_path: str, name: str, make) -> str:
    """A development lead key (phone encryption or hashing), generated once into the instance folder."""
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _new_fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


class Config:
    MATRIX_ENV = "development"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI: str | None = os.environ.get("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    MATRIX_TIMEZONE = os.environ.get("MATRIX_TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = os.environ.get("MATRIX_TIMEZONE", "Asia/Shanghai")
    LANGUAGES = {"zh": "中文", "en": "English"}
    # Geocoding: "none", "nominatim" or "baidu" (geopy's BaiduV3).
    GEOCODER = os.environ.get("GEOCODER", "none")
    GEOCODER_DOMAIN = os.environ.get("GEOCODER_DOMAIN")  # None means the provider's public host
    GEOCODER_SCHEME = os.environ.get("GEOCODER_SCHEME", "https")
    GEOCODER_API_KEY = os.environ.get("GEOCODER_API_KEY")
    GEOCODER_USER_AGENT = os.environ.get("GEOCODER_USER_AGENT", "storematrix")
    GEOCODER_TIMEOUT_S = float(os.environ.get("GEOCODER_TIMEOUT_S", "5"))
    # Nominatim's public policy is one request per second.
    GEOCODER_MIN_DELAY_S = float(os.environ.get("GEOCODER_MIN_DELAY_S", "1.0"))
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # an XLSX of 10,000 stores is about 1 MB; a reference clip up to 19 MB
    # HQ's reference files of campaign templates (kept in the database).
    MATERIAL_MAX_IMAGE_BYTES = 5 * 1024 * 1024
    MATERIAL_MAX_VIDEO_BYTES = 19 * 1024 * 1024    # under MAX_CONTENT_LENGTH with the form around it
    MATERIAL_MAX_VIDEO_S = 180                     # a reference clip, not a film
    MATERIALS_PER_TEMPLATE = 10
    PAGE_SIZE = 50
    # Public address of the site, for links in robot messages (e.g. https://matrix.example.com).
    BASE_URL = os.environ.get("BASE_URL")
    # WeCom group robots. WECOM_ROBOT_BASE_URL sends every robot call to another host (a loopback
    # stand-in in tests, a staging proxy): leave it unset in production. Stored URLs are checked anyway.
    WECOM_ROBOT_BASE_URL = os.environ.get("WECOM_ROBOT_BASE_URL") or None
    WECOM_TIMEOUT_S = float(os.environ.get("WECOM_TIMEOUT_S", "5"))
    WECOM_BACKOFF_BASE_S = 30     # first retry after about 30 s, doubling ...
    WECOM_BACKOFF_CAP_S = 3600    # ... up to an hour between attempts
    WECOM_MAX_ATTEMPTS = 12       # then the delivery is marked failed (about 5 hours in all)
    # The WeCom app API (channel join codes, customer groups). WECOM_API_BASE_URL sends every call to another
    # host (a loopback stand-in in tests, a staging proxy): leave it unset in production.
    WECOM_API_BASE_URL = os.environ.get("WECOM_API_BASE_URL") or None
    WECOM_API_TIMEOUT_S = float(os.environ.get("WECOM_API_TIMEOUT_S", "8"))
    WECOM_CALLBACK_MAX_BYTES = 64 * 1024  # a member-change event of 200 members is about 12 KB encrypted
    WECOM_CALLBACK_MAX_SKEW_S = 600       # a callback's timestamp within 10 minutes of our clock
    WECOM_CHAT_SYNC_HOURS = float(os.environ.get("WECOM_CHAT_SYNC_HOURS", "6"))  # re-read every group's members
    WECOM_LEAD_CODE_DAYS = 30             # a lead's own join code is deleted after this (or once they joined)
    JOINS_SYNC_INTERVAL_S = float(os.environ.get("JOINS_SYNC_INTERVAL_S", "5"))
    WORKER_BATCH = int(os.environ.get("WORKER_BATCH", "50"))
    WORKER_INTERVAL_S = float(os.environ.get("WORKER_INTERVAL_S", "2"))
    WORKER_LEASE_S = 20           # a claimed row is another worker's again after this (a crashed worker);
    #                               the worker renews it while it holds the row, and starts no send it cannot end in it
    WORKER_THREADS = int(os.environ.get("WORKER_THREADS", "8"))  # robots sent to at once (one message each)
    # Strict-Transport-Security max-age: only production (behind HTTPS) sends it; browsers then refuse plain HTTP.
    HSTS_SECONDS = 0
    # Print jobs (`flask print-jobs`): chain and city PDFs built with headless Chromium.
    CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH") or None   # default: /usr/bin/chromium and the usual places
    PRINT_JOB_DIR = os.environ.get("PRINT_JOB_DIR") or None   # default: <instance>/print_jobs
    PRINT_JOB_BATCH = int(os.environ.get("PRINT_JOB_BATCH", "100"))         # stores per Chromium run
    PRINT_JOB_PROCESSES = int(os.environ.get("PRINT_JOB_PROCESSES", "2"))   # Chromium runs at once per job
    PRINT_JOB_MAX_STORES = int(os.environ.get("PRINT_JOB_MAX_STORES", "12000"))
    PRINT_JOB_TIMEOUT_S = float(os.environ.get("PRINT_JOB_TIMEOUT_S", "3600"))   # a whole document
    PRINT_BATCH_TIMEOUT_S = float(os.environ.get("PRINT_BATCH_TIMEOUT_S", "600"))  # one Chromium run
    PRINT_JOB_MAX_MB = int(os.environ.get("PRINT_JOB_MAX_MB", "2048"))
    PRINT_JOB_KEEP_HOURS = float(os.environ.get("PRINT_JOB_KEEP_HOURS", "24"))
    PRINT_JOB_LEASE_S = 600       # a worker renews it with every batch; a dead worker's job is taken over after
    PRINT_JOB_INTERVAL_S = float(os.environ.get("PRINT_JOB_INTERVAL_S", "3"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the session cookie bounds the token's life
    # Lead routing: how often (s) a process checks whether any process changed a store.
    ROUTING_INDEX_CHECK_S = float(os.environ.get("ROUTING_INDEX_CHECK_S", "1.0"))
    # HQ's pages: how often (s) a process checks whether its summaries of the chain (cities, coverage) are stale;
    # 0 keeps none (the tests: a page sends the same queries every time).
    CHAIN_CACHE_CHECK_S = float(os.environ.get("CHAIN_CACHE_CHECK_S", "2.0"))
    # Reports (a week's completion): how long (s) a process reuses figures it summed up; 0 never does.
    REPORT_CACHE_S = float(os.environ.get("REPORT_CACHE_S", "60"))
    # Leads: phones are Fernet-encrypted with LEAD_PHONE_KEY (comma-separated keys rotate: the first
    # encrypts, all decrypt; lead-source secrets use the same keys) and hashed with LEAD_HASH_KEY
    # (HMAC-SHA256) to find duplicates. Losing either key loses the stored phones: back them up.
    LEAD_PHONE_KEY: str | None = os.environ.get("LEAD_PHONE_KEY")
    LEAD_HASH_KEY: str | None = os.environ.get("LEAD_HASH_KEY")
    WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", 64 * 1024))
    WEBHOOK_MAX_SKEW_S = 300  # generic signed webhooks: the timestamp must be within 5 minutes
    # "worker": a webhook stores the delivery and answers; `flask worker` routes it right after (production).
    # "inline": the request routes its own delivery before answering (the suite, which runs no worker).
    LEAD_ROUTING = os.environ.get("LEAD_ROUTING", "worker")
    WEBHOOK_SOURCE_CACHE_S = 2.0  # a process reuses a lead source's row (and decrypted secret) this long
    # Rate limits shared by every process: counters in Redis in production (redis://host:6379/0), in this
    # process's memory in development and tests (`flask check` refuses memory:// in production).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    # name -> "N per second|minute|hour; ..." (the `limits` notation), per client address.
    RATE_LIMITS = {
        "sign_in": os.environ.get("RATE_LIMIT_SIGN_IN", "20 per minute; 200 per hour"),  # each try hashes: CPU
        "webhook": os.environ.get("RATE_LIMIT_WEBHOOK", "1500 per second; 60000 per minute"),  # bursts of 1,000/s
        # Generous: a store's Wi-Fi or a carrier's NAT puts many visitors behind one address.
        "public_page": os.environ.get("RATE_LIMIT_PUBLIC_PAGE", "300 per minute"),
        "public_form": os.environ.get("RATE_LIMIT_PUBLIC_FORM", "10 per minute; 60 per hour"),
    }
    RATELIMIT_ENABLED = True
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are believed; 0 trusts none.
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))
    DB_CONNECT_TIMEOUT_S = int(os.environ.get("DB_CONNECT_TIMEOUT_S", "5"))  # a dead database answers 503 fast
    DB_UNAVAILABLE_RETRY_S = 30  # Retry-After while the database is unreachable (platforms retry webhooks)
    # Store pages (/s/<code>). Generous per address: a store's Wi-Fi or a carrier's NAT puts many people behind one.
    STOREFRONT_CACHE_S = float(os.environ.get("STOREFRONT_CACHE_S", "30"))   # a rendered page is reused this long
    STOREFRONT_FLUSH_S = float(os.environ.get("STOREFRONT_FLUSH_S", "5"))    # counts reach the database this often
    STOREFRONT_MIN_FILL_S = 3              # a lead form sent sooner after the page was served is a script's
    STOREFRONT_FORM_MAX_AGE_S = 6 * 3600   # a form older than this is served again
    STOREFRONT_MAX_BYTES = 4096            # the lead form's body; its fields hold about 400 characters

    def init_app(self, app) -> None:
        """Fill what depends on the instance folder."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "storematrix.db")
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            # Without a timeout a connection to a host that drops packets waits minutes, holding the worker.
            options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
            options.setdefault("pool_timeout", app.config["DB_CONNECT_TIMEOUT_S"])
            connect = options["connect_args"] = dict(options.get("connect_args") or {})
            connect.setdefault("connect_timeout", app.config["DB_CONNECT_TIMEOUT_S"])
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)
        if not app.config.get("LEAD_PHONE_KEY"):
            app.config["LEAD_PHONE_KEY"] = _instance_lead_key(app.instance_path, "lead_phone_key", _new_fernet_key)
        if not app.config.get("LEAD_HASH_KEY"):
            app.config["LEAD_HASH_KEY"] = _instance_lead_key(app.instance_path, "lead_hash_key",
                                                             lambda: secrets.token_hex(32))
        _check_lead_keys(app.config)


def _check_lead_keys(config) -> None:
    """Fail at start-up, not at the first lead, when the phone key is not a Fernet key."""
    from cryptography.fernet import Fernet

    try:
        for key in str(config["LEAD_PHONE_KEY"]).split(","):
            Fernet(key.strip())
    except (ValueError, TypeError):
        raise RuntimeError("LEAD_PHONE_KEY is not a valid Fernet key (generate one with `python -c "
                           "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`).") from None


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    MATRIX_ENV = "test"
    TESTING = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = False  # the suite signs in hundreds of times a minute; tests/test_rate_limits.py turns it on
    # Tests read messages in the source language; tests/test_translations.py checks the Chinese default.
    BABEL_DEFAULT_LOCALE = "en"
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    GEOCODER = "none"
    GEOCODER_MIN_DELAY_S = 0.0
    SERVER_NAME = "localhost"
    ROUTING_INDEX_CHECK_S = 0.0
    CHAIN_CACHE_CHECK_S = 0.0
    REPORT_CACHE_S = 0.0
    # Fixed test keys (never used outside tests).
    LEAD_PHONE_KEY = "dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE="
    LEAD_HASH_KEY = "test-lead-hash-key"
    # Store pages: no page cache and no flusher thread; tests flush the counts themselves.
    STOREFRONT_CACHE_S = 0
    STOREFRONT_FLUSH_S = 0
    RATELIMIT_STORAGE_URI = "memory://"
    LEAD_ROUTING = "inline"  # no worker runs beside the suite; tests of the queued path set "worker"
    WEBHOOK_SOURCE_CACHE_S = 0.0


class ProductionConfig(Config):
    MATRIX_ENV = "production"
    SESSION_COOKIE_SECURE = True
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", 365 * 24 * 3600))

    def init_app(self, app) -> None:
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY is not set: production refuses to start without it "
                               "(export SECRET_KEY=<long random string>).")
        for name in ("LEAD_PHONE_KEY", "LEAD_HASH_KEY"):
            if not app.config.get(name):
                raise RuntimeError(f"{name} is not set: production refuses to start without it, because leads' "
                                   "phone numbers are encrypted and hashed with it (see the README).")
        super().init_app(app)
        if not _is_site_address(app.config.get("BASE_URL")):
            # Otherwise links in robot messages take the request's Host header, which a client chooses.
            raise RuntimeError("BASE_URL is not set to the site's public address (https://matrix.example.com): "
                               "production refuses to start without it, because robot messages link to leads.")


def _is_site_address(url: str | None) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query and not parts.fragment


def config_for_environment() -> type[Config]:
    """Choose the settings class from MATRIX_ENV (development by default)."""
    name = os.environ.get("MATRIX_ENV", "development")
    return {"production": ProductionConfig, "test": TestConfig}.get(name, DevelopmentConfig)
