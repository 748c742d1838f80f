"""StoreMatrix: the account matrix of a chain's stores."""
from flask import Flask

from config import Config, config_for_environment


def create_app(config: type[Config] | Config | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, commands, error pages."""
    app = Flask(__name__, instance_relative_config=True,
                template_folder="../templates", static_folder="../static")
    settings = config() if isinstance(config, type) else (config or config_for_environment()())
    app.config.from_object(settings)
    settings.init_app(app)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_production(app)
    return app


def register_extensions(app: Flask) -> None:
    from matrix.auth.session import configure_login, select_locale, select_timezone
    from matrix.extensions import babel, csrf, db, migrate
    from matrix.models import import_all_models

    import_all_models()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories="../translations")
    configure_login(app)


def register_blueprints(app: Flask) -> None:
    from matrix.accounts.views import bp as accounts_bp
    from matrix.audit.views import bp as audit_bp
    from matrix.auth.views import bp as auth_bp
    from matrix.brands.views import bp as brands_bp
    from matrix.campaigns.views import bp as campaigns_bp
    from matrix.communities.views import bp as communities_bp
    from matrix.imports.views import bp as imports_bp
    from matrix.leads.hooks_views import bp as hooks_bp
    from matrix.leads.lead_import_views import bp as lead_imports_bp
    from matrix.leads.sources_views import bp as sources_bp
    from matrix.leads.views import bp as leads_bp
    from matrix.live.views import bp as live_bp
    from matrix.notifications.views import bp as notifications_bp
    from matrix.overview.views import bp as overview_bp
    from matrix.plans.views import bp as plans_bp
    from matrix.stores.views import bp as stores_bp
    from matrix.users.views import bp as users_bp

    for bp in (auth_bp, overview_bp, stores_bp, brands_bp, accounts_bp, communities_bp,
               imports_bp, users_bp, audit_bp, campaigns_bp):
        app.register_blueprint(bp)
    app.register_blueprint(leads_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(live_bp)
    for bp in (hooks_bp, sources_bp, lead_imports_bp):
        app.register_blueprint(bp)


def register_commands(app: Flask) -> None:
    from matrix.commands import register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from matrix.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from matrix.templating import register

    register(app)


def register_production(app: Flask) -> None:
    """Security headers, request ids and masked logs, rate limits, health checks, database faults."""
    from matrix.ops import faults, headers, health, logs, ratelimit

    headers.register(app)
    logs.register(app)
    ratelimit.register(app)
    faults.register(app)
    app.register_blueprint(health.bp)
