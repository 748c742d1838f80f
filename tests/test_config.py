"""Settings: secrets and databases come from the environment."""
import pytest

from config import DevelopmentConfig, ProductionConfig
from matrix import create_app


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)

    class Settings(ProductionConfig):
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "p.db")

    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(Settings)


def test_development_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    class Settings(DevelopmentConfig):
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite:///" + str(tmp_path / "d.db")

    monkeypatch.setattr("flask.Flask.auto_find_instance_path", lambda self: str(tmp_path / "instance"))
    first = create_app(Settings).config["SECRET_KEY"]
    second = create_app(Settings).config["SECRET_KEY"]
    assert first == second and len(first) == 64
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == first


def test_database_url_chooses_the_database(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "chosen.db"))
    import importlib

    import config
    importlib.reload(config)
    try:
        app = create_app(config.DevelopmentConfig)
        assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("chosen.db")
    finally:
        monkeypatch.delenv("DATABASE_URL")
        importlib.reload(config)
