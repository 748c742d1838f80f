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
    LOGIN_MAX_FAILURES = 5
    LOGIN_WINDOW_MINUTES = 15
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
    WORKER_LEASE_S = 300          # a claimed row is another worker's again after this (a crashed worker)
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
    # Leads: phones are Fernet-encrypted with LEAD_PHONE_KEY (comma-separated keys rotate: the first
    # encrypts, all decrypt; lead-source secrets use the same keys) and hashed with LEAD_HASH_KEY
    # (HMAC-SHA256) to find duplicates. Losing either key loses the stored phones: back them up.
    LEAD_PHONE_KEY: str | None = os.environ.get("LEAD_PHONE_KEY")
    LEAD_HASH_KEY: str | None = os.environ.get("LEAD_HASH_KEY")
    WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", 64 * 1024))
    WEBHOOK_MAX_SKEW_S = 300  # generic signed webhooks: the timestamp must be within 5 minutes

    def init_app(self, app) -> None:
        """Fill what depends on the instance folder."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "storematrix.db")
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
    TESTING = True
    # Tests read messages in the source language; tests/test_translations.py checks the Chinese default.
    BABEL_DEFAULT_LOCALE = "en"
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = True
    GEOCODER = "none"
    GEOCODER_MIN_DELAY_S = 0.0
    SERVER_NAME = "localhost"
    ROUTING_INDEX_CHECK_S = 0.0
    # Fixed test keys (never used outside tests).
    LEAD_PHONE_KEY = "dGVzdC1sZWFkLXBob25lLWtleS0zMi1ieXRlcy1vayE="
    LEAD_HASH_KEY = "test-lead-hash-key"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True

    def init_app(self, app) -> None:
        if not app.config.get("SECRET_KEY"):
            raise RuntimeError("SECRET_KEY is not set: production refuses to start without it "
                               "(export SECRET_KEY=<long random string>).")
        for name in ("LEAD_PHONE_KEY", "LEAD_HASH_KEY"):
            if not app.config.get(name):
                raise RuntimeError(f"{name} is not set: production refuses to start without it, because leads' "
                                   "phone numbers are encrypted and hashed with it (see the README).")
        super().init_app(app)


def config_for_environment() -> type[Config]:
    """Choose the settings class from MATRIX_ENV (development by default)."""
    name = os.environ.get("MATRIX_ENV", "development")
    return {"production": ProductionConfig, "test": TestConfig}.get(name, DevelopmentConfig)
