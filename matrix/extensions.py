"""Flask extensions, created unbound and initialised in the app factory."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from matrix.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# No default limits: each public route names its own; the storage comes from RATELIMIT_STORAGE_URI.
