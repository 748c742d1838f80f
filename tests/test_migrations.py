"""The migrations build the same schema as the models, and a new install has what a chain needs first."""
import importlib.util
import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text

from config import TestConfig
from matrix import create_app
from matrix.accounts.models import Platform
from matrix.accounts.platforms import DEFAULT_PLATFORMS
from matrix.models import Base

VERSIONS = Path(__file__).resolve().parent.parent / "migrations" / "versions"


def migrated_app(tmp_path, schema: str):
    """An app on an empty database of its own (a separate schema on PostgreSQL, so the suite's tables stay)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        url_for_app = url
        connect_args = {"options": f"-csearch_path={schema}"}
    else:
        url_for_app = "sqlite:///" + str(tmp_path / f"{schema}.db")
        connect_args = {}

    class Settings(TestConfig):
        SQLALCHEMY_DATABASE_URI = url_for_app
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": connect_args}

    return create_app(Settings)


@pytest.mark.slow
def test_migrations_match_models(tmp_path):
    app = migrated_app(tmp_path, "migration_check")
    with app.app_context():
        upgrade()
        from matrix.extensions import db
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def _platform_migration():
    path = next(VERSIONS.glob("*_the_four_platforms.py"))
    spec = importlib.util.spec_from_file_location("the_four_platforms", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_upgrade_alone_gives_the_four_platforms_once(tmp_path):
    from matrix.extensions import db

    migration = _platform_migration()
    app = migrated_app(tmp_path, "platforms_check")
    with app.app_context():
        upgrade(revision=migration.revision)
        db.session.execute(text("UPDATE platforms SET name_en = 'TikTok China' WHERE code = 'douyin'"))
        db.session.commit()
        downgrade(revision=migration.down_revision)
        upgrade(revision=migration.revision)  # again, over the rows: adds nothing, changes nothing
        rows = db.session.execute(select(Platform.code, Platform.name_en, Platform.enabled)
                                  .order_by(Platform.sort_order)).all()
        db.session.remove()
    assert [code for code, _name, _on in rows] == ["douyin", "kuaishou", "channels", "xiaohongshu"]
    assert rows[0].name_en == "TikTok China" and all(on for _c, _n, on in rows)


def test_the_migrations_platforms_are_the_apps(app):
    """The migration keeps its own copy (migrations do not read the app); it must say the same."""
    copied = [(code, zh, en, hosts) for code, zh, en, hosts, _order in _platform_migration().PLATFORMS]
    assert copied == [tuple(p) for p in DEFAULT_PLATFORMS]
