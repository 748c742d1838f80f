"""What the benchmarks share: an app on a given database, and a fresh database to run in."""
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable


def make_app(url: str):
    """The app on `url`, with the bench's fixed secret and no connection pre-ping."""
    from config import Config
    from matrix import create_app

    class Settings(Config):
        SQLALCHEMY_DATABASE_URI = url
        SECRET_KEY = "bench"
        SQLALCHEMY_ENGINE_OPTIONS = {}

    return create_app(Settings)


def postgres_schema(url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema in the PostgreSQL database of `url`; returns its URL and a cleanup."""
    from sqlalchemy import create_engine, text

    schema = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    joiner = "&" if "?" in url else "?"

    def drop():
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
    return f"{url}{joiner}options=-csearch_path%3D{schema}", drop


def fresh_database(prefix: str) -> tuple[str, Callable[[], None]]:
    """A fresh schema when DATABASE_URL is PostgreSQL, else a SQLite file in a temporary folder."""
    target = os.environ.get("DATABASE_URL", "")
    if target.startswith("postgresql"):
        print(f"database: PostgreSQL, fresh schema in {target.rsplit('@', 1)[-1]}")
        return postgres_schema(target, prefix)
    folder = tempfile.mkdtemp(prefix=f"{prefix}_")
    print(f"database: SQLite in {folder}")
    return f"sqlite:///{folder}/bench.db", lambda: shutil.rmtree(folder, ignore_errors=True)
