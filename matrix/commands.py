"""CLI commands: `flask users create`, `regions load`, `demo`, `seed`, `worker`, `print-jobs`, `joins`, `check`."""
import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from matrix.auth.models import Role

users_cli = AppGroup("users", help="Manage users.")
regions_cli = AppGroup("regions", help="The table of Chinese cities and districts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.ADMIN.value, show_default=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default="")
@click.option("--store", "store_codes", multiple=True, help="Store code a store manager runs (repeatable).")
def create_user_command(username, role, password, display_name, store_codes):
    """Create a user (the first admin, typically)."""
    from sqlalchemy import select

    from matrix.auth.services import create_user
    from matrix.errors import DomainError
    from matrix.extensions import db
    from matrix.stores.models import Store

    store_ids = list(db.session.scalars(select(Store.id).where(Store.code.in_(store_codes)))) if store_codes else []
    try:
        user = create_user(username=username, password=password, role=Role(role), actor=None,
                           display_name=display_name, store_ids=store_ids)
    except DomainError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"Created {user.username} ({user.role.value}).")


@regions_cli.command("load")
def load_regions_command():
    """Load the shipped table of cities and districts (safe to run again)."""
    from matrix.regions.services import load_regions

    click.echo(f"{load_regions()} regions loaded.")


def _prepare_database() -> None:
    """Bring the schema to the latest migration and load the regions (both safe to repeat)."""
    from flask_migrate import upgrade

    from matrix.regions.services import load_regions

    upgrade()
    click.echo(f"Database upgraded; {load_regions()} regions loaded.")


@click.command("demo")
@with_appcontext
@click.option("--stores", default=300, show_default=True, help="Number of demo stores.")
@click.option("--seed", "rng_seed", default=2026, show_default=True, help="Random seed (same seed, same chain).")
def demo_command(stores, rng_seed):
    """Create the demo chain 栖木家居 with users to sign in (does nothing if stores exist)."""
    from matrix.demo import build_demo
    from matrix.demo_chain import BRAND

    _prepare_database()
    summary = build_demo(rng_seed=rng_seed, stores=stores)
    if summary is None:
        click.echo("The database already has stores: the demo exists (or real data does); nothing added.")
        return
    click.echo(f"Demo chain {BRAND}: {summary.stores} stores, {summary.accounts} store accounts, "
               f"{summary.communities} communities, {summary.sessions} live sessions, a campaign of "
               f"{summary.items} items over three weeks, {summary.leads} leads.")
    click.echo("Sign in with:")
    for username, password, role, codes in summary.users:
        runs = f"  runs {', '.join(codes)}" if codes else ""
        click.echo(f"  {username:<10} {password:<20} {role}{runs}")
    if summary.lead_source:
        slug, secret = summary.lead_source
        click.echo(f"Lead webhook (generic, see README \"Lead webhooks\"): POST /hooks/{slug}  secret: {secret}")


@click.command("seed")
@with_appcontext
@click.option("--stores", default=10_000, show_default=True, help="Number of stores.")
@click.option("--accounts-per-store", default=3, show_default=True, help="Store accounts per store.")
@click.option("--seed", "rng_seed", default=1, show_default=True, help="Random seed.")
def seed_command(stores, accounts_per_store, rng_seed):
    """Create a large chain (codes S00001...) for benchmarks, on a database without stores."""
    from matrix.demo import build_seed

    _prepare_database()
    summary = build_seed(stores=stores, accounts_per_store=accounts_per_store, rng_seed=rng_seed)
    if summary is None:
        raise click.ClickException("The database already has stores; seed an empty database.")
    click.echo(f"Seeded {summary.stores} stores, {summary.accounts} store accounts, "
               f"{summary.communities} communities. Add a user with `flask users create`.")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Deliver what is due once and exit (for cron and tests).")
@click.option("--interval", type=float, default=None, help="Seconds to sleep when idle [WORKER_INTERVAL_S, 2].")
@click.option("--limit", type=int, default=None, help="Deliveries claimed per round [WORKER_BATCH, 50].")
def worker_command(once, interval, limit):
    """Route webhook leads; send lead alerts, reminders and digests to staff channels and posts to groups."""
    from matrix.broadcasts.schedule import run_periodic
    from matrix.leads.deliveries import route_waiting
    from matrix.notifications.worker import run_worker

    run_worker(once=once, interval=interval, limit=limit, echo=click.echo, periodic=run_periodic,
               routing=route_waiting)


@click.command("print-jobs")
@with_appcontext
@click.option("--once", is_flag=True, help="Build at most one waiting document and exit (for cron and tests).")
@click.option("--interval", type=float, default=None, help="Seconds to sleep when idle [PRINT_JOB_INTERVAL_S, 3].")
def print_jobs_command(once, interval):
    """Build the PDFs HQ asked for (chain and city wall plans) with headless Chromium; run one or several."""
    from matrix.printjobs.worker import run_print_jobs

    run_print_jobs(once=once, interval=interval, echo=click.echo)


@click.command("plan-week")
@with_appcontext
@click.option("--campaign", "campaign_id", type=int, required=True, help="Campaign id.")
@click.option("--week", required=True, help="ISO week such as 2026-W48.")
def plan_week_command(campaign_id, week):
    """Generate (or regenerate) one week of a campaign for every in-scope store account."""
    from matrix.chain import chain_zone
    from matrix.content.generation import generate_week
    from matrix.content.models import Campaign
    from matrix.errors import DomainError
    from matrix.extensions import db
    from matrix.weeks import WeekError, iso_week

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise click.ClickException(f"No campaign {campaign_id}.")
    try:
        report = generate_week(campaign, iso_week(week), actor=None, zone=chain_zone())
    except (DomainError, WeekError) as e:
        raise click.ClickException(getattr(e, "message", str(e))) from None
    click.echo(report.summary())
    for line in report.warnings + report.skipped_reasons:
        click.echo(f"  {line}")


def register(app: Flask) -> None:
    from matrix.joins.commands import joins_cli
    from matrix.ops.check import check_command

    app.cli.add_command(check_command)
    app.cli.add_command(users_cli)
    app.cli.add_command(regions_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(seed_command)
    app.cli.add_command(plan_week_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(print_jobs_command)
    app.cli.add_command(joins_cli)
