"""`flask joins sync`: keep the WeCom join codes in step and read the groups' joins (run one, or from cron)."""
import signal
import threading

import click
from flask.cli import AppGroup

joins_cli = AppGroup("joins", help="WeCom channel join codes and the joins they bring.")


@joins_cli.command("sync")
@click.option("--once", is_flag=True, help="Run one round and exit (for cron and tests).")
@click.option("--interval", type=float, default=None, help="Seconds to sleep when idle [JOINS_SYNC_INTERVAL_S, 5].")
@click.option("--limit", type=int, default=None, help="Codes and groups handled per round [WORKER_BATCH, 50].")
def sync_command(once, interval, limit):
    """Create and update join codes at WeCom, read groups' members, record joins (Ctrl-C stops)."""
    from matrix.joins.sync import run_sync

    stop = {"requested": False}

    def request_stop(signum, frame):  # the round in progress finishes: no claimed row waits for its lease
        stop["requested"] = True

    if not once and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        click.echo("joins sync started (Ctrl-C stops)")
    run_sync(once=once, interval=interval, limit=limit, echo=click.echo, should_stop=lambda: stop["requested"])
