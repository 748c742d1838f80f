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


class Config:
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
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024  # an XLSX of 10,000 stores is about 1 MB
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_MINUTES = 15
    PAGE_SIZE = 50
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the session cookie bounds the token's life

    def init_app(self, app) -> None:
        """Fill what depends on the instance folder."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "storematrix.db")
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = _instance_secret_key(app.instance_path)


class DevelopmentConfig(Config):
    DEBUG = False


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    GEOCODER = "none"
    GEOCODER_MIN_DELAY_S = 0.0
    SERVER_NAME = "localhost"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True

    def init_app(self, app) -> None:
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY is not set: production refuses to start without it "
                               "(export SECRET_KEY=<long random string>).")
        super().init_app(app)


def config_for_environment() -> type[Config]:
    """Choose the settings class from MATRIX_ENV (development by default)."""
    name = os.environ.get("MATRIX_ENV", "development")
    return {"production": ProductionConfig, "test": TestConfig}.get(name, DevelopmentConfig)
