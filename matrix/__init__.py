"""StoreMatrix: the account matrix of a chain's stores."""
import importlib

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


# Every module that adds routes, in the navigation's order. A blueprint spread over several modules
# (live, leads, plans) has its `bp` in blueprint.py; all its modules are imported before it is registered.
VIEW_MODULES = (
    "auth.views", "today.views", "overview.views", "stores.views", "brands.views", "accounts.views", "communities.views",
    "imports.views", "users.views", "audit.views", "campaigns.views",
    "leads.views", "leads.hq_views", "leads.manual_views", "notifications.views",
    "plans.views", "plans.hq_views", "plans.print_views", "plans.brand_views",
    "live.views", "live.calendar_views", "live.rules_views", "live.import_views",
    "leads.hooks_views", "leads.sources_views", "leads.lead_import_views",
    "joins.views", "joins.callback_views", "notifications.channel_views", "broadcasts.views",
    "storefront.views", "storefront.public_views",
    "onboarding.hq_views", "onboarding.qr_views", "onboarding.store_views",
    "printjobs.views", "materials.views",
)


def register_blueprints(app: Flask) -> None:
    from matrix.joins.staleness import watch_groups

    modules = [importlib.import_module(f"matrix.{name}") for name in VIEW_MODULES]
    for module in modules:
        if module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)
    watch_groups()  # a change of a store's groups marks its join codes stale in the same transaction


def register_commands(app: Flask) -> None:
    from matrix.commands import register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from matrix.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from matrix.templating import register

    # Block tags leave no blank lines and indentation behind: 10-18% of a list page's bytes.
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    register(app)


def register_production(app: Flask) -> None:
    """Security headers, request ids and masked logs, rate limits, health checks, database faults, gzip."""
    from matrix.ops import compress, faults, headers, health, logs, ratelimit

    headers.register(app)
    logs.register(app)
    ratelimit.register(app)
    faults.register(app)
    app.register_blueprint(health.bp)
    compress.register(app)  # outermost: it sees the final headers, cookies included
