"""The migrations build the same schema as the models."""
import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from config import TestConfig
from matrix import create_app
from matrix.models import Base


@pytest.mark.slow
def test_migrations_match_models(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL")
    if url:  # a separate schema on PostgreSQL so the suite's tables stay untouched
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS migration_check CASCADE; CREATE SCHEMA migration_check"))
        url_for_app = url
        connect_args = {"options": "-csearch_path=migration_check"}
    else:
        url_for_app = "sqlite:///" + str(tmp_path / "migrated.db")
        connect_args = {}

    class Settings(TestConfig):
        SQLALCHEMY_DATABASE_URI = url_for_app
        SQLALCHEMY_ENGINE_OPTIONS = {"connect_args": connect_args}

    app = create_app(Settings)
    with app.app_context():
        upgrade()
        from matrix.extensions import db
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
