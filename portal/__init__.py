"""The ECHRI Portal application factory."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from config import load_config
from portal import logs
from portal.extensions import csrf, db, limiter, login_manager
from portal.http import PortalRequest
from portal.proxy import TrustedProxyFix


def create_app(config_name: str | None = None, **overrides: object) -> Flask:
    """Build the app for `config_name` (default, testing, production); `overrides` win."""
    settings = load_config(config_name)
    settings.update(overrides)
    # INSTANCE_PATH moves the whole instance folder, e.g. to rehearse a restore beside the live one.
    instance_path = settings.get("INSTANCE_PATH") or None
    app = Flask(__name__, instance_relative_config=False,
                instance_path=str(Path(str(instance_path)).resolve()) if instance_path else None)
    app.request_class = PortalRequest
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    settings.setdefault("SECRET_KEY", None)
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{Path(app.instance_path) / 'portal.db'}"
    app.config.update(settings)

    logs.init_app(app)  # first: its hooks time and number every request
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)

    from portal import cli, converters, guard, notifications, pages
    from portal.account.routes import bp as account_bp
    from portal.admin.routes import bp as admin_bp
    from portal.api.docs import bp as api_docs_bp
    from portal.api.routes import bp as api_bp
    from portal.attachments.api import bp as attachments_api_bp
    from portal.attachments.routes import bp as attachments_bp
    from portal.auth.routes import bp as auth_bp
    from portal.auth.webauthn_routes import bp as webauthn_bp
    from portal.consultations.api import bp as consultations_api_bp
    from portal.consultations.routes import bp as consultations_bp
    from portal.countries.routes import bp as countries_bp
    from portal.keys.routes import bp as keys_bp
    from portal.main.routes import bp as main_bp
    from portal.meetings.api import bp as meetings_api_bp
    from portal.meetings.routes import bp as meetings_bp
    from portal.notifications.routes import bp as notifications_bp
    from portal.oauth import server as oauth_server
    from portal.oauth.routes import bp as oauth_bp
    from portal.overview.routes import bp as overview_bp
    from portal.ops import bp as ops_bp
    from portal.public.calls import bp as public_consultations_bp
    from portal.public.inbox import bp as contact_inbox_bp
    from portal.public.publishing import bp as public_publishing_bp
    from portal.public.routes import bp as public_bp
    from portal.screening.routes import bp as screening_bp
    from portal.sharing.routes import bp as sharing_bp
    from portal.sso.routes import bp as sso_bp
    from portal.stix.routes import bp as stix_bp, pages_bp as stix_pages_bp
    from portal.taxii.routes import bp as taxii_bp
    from portal.users.routes import bp as users_bp

    converters.init_app(app)  # before the blueprints: their rules take the converters they find
    for blueprint in (main_bp, auth_bp, account_bp, users_bp, countries_bp, admin_bp, sharing_bp, api_bp,
                      notifications_bp, keys_bp, attachments_bp, attachments_api_bp, meetings_bp, screening_bp,
                      consultations_bp, consultations_api_bp, meetings_api_bp, api_docs_bp, oauth_bp, ops_bp, sso_bp,
                      stix_bp, stix_pages_bp, taxii_bp, webauthn_bp, public_bp, public_publishing_bp, contact_inbox_bp,
                      public_consultations_bp, overview_bp):
        app.register_blueprint(blueprint)
    notifications.init_app(app)
    oauth_server.init_app(app)
    guard.init_app(app)
    pages.init_app(app)
    cli.init_app(app)
    if int(app.config.get("TRUSTED_PROXY_COUNT") or 0) > 0:
        app.wsgi_app = TrustedProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, int(app.config["TRUSTED_PROXY_COUNT"]), str(app.config.get("FORWARDED_ALLOW_IPS") or ""))
    return app


def _instance_secret(path: Path) -> str:
    """A per-installation secret for the embedded default, created once with mode 0600."""
    if not path.exists():
        try:
            fd = path.open("x")
        except FileExistsError:
            pass
        else:
            with fd:
                path.chmod(0o600)
                fd.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
