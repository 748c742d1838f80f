"""CLI commands: `flask users create`, `flask regions load`, `flask demo`, `flask seed`."""
import click
from flask import Flask
from flask.cli import AppGroup

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


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(regions_cli)
