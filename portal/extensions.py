"""Extension objects, created unbound here and attached to an app in create_app()."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from flask import Flask, current_app
from flask.globals import app_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session


if TYPE_CHECKING:
    class ScopedSession(Session):
        """What `db.session` is to the type checker: a Session (scoped_session proxies every
        Session method to the current context's session) that can also be removed."""

        def remove(self) -> None: ...
else:
    ScopedSession = Session


class Database:
    """One engine per app and one session per app context (request, CLI command or test)."""

    def __init__(self) -> None:
        # Scoped to the app context so each request/command gets its own session and
        # several apps (one per test) can coexist in one process.
        self.session = cast(ScopedSession, scoped_session(
            self._new_session,  # type: ignore[arg-type]  # any session factory works; the stub wants a sessionmaker
            scopefunc=lambda: id(app_ctx._get_current_object()),  # type: ignore[attr-defined]  # a LocalProxy
        ))

    def init_app(self, app: Flask) -> None:
        """Create the engine for `app` and remove the session when each context ends."""
        app.extensions["portal.db"] = make_engine(app.config["DATABASE_URL"])
        app.teardown_appcontext(self._remove)

    @property
    def engine(self) -> Engine:
        engine: Engine = current_app.extensions["portal.db"]
        return engine

    def _new_session(self) -> Session:
        return Session(bind=self.engine, expire_on_commit=False)

    def _remove(self, _exc: BaseException | None) -> None:
        self.session.remove()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the portal relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")  # SQLite ignores FKs unless asked
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # JIT compilation costs PostgreSQL ~200 ms per list query and gains nothing on these short
    # OLTP queries (EXPLAIN ANALYZE, bench/listing.py).
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"}, **kwargs)


class AppLimiter(Limiter):
    """Flask-Limiter with its counting store kept per app, not per extension object.

    Flask-Limiter keeps the store of the last app it was attached to; the portal builds several
    apps in one process (tests, a CLI next to a server), and each must count in its own store
    (`RATELIMIT_STORAGE_URI`: in memory by default, Redis in production).
    """

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.extensions["portal.ratelimit"] = (self._storage, self._limiter)

    @property
    def storage(self) -> Any:
        return current_app.extensions["portal.ratelimit"][0]

    @property
    def limiter(self) -> Any:
        return current_app.extensions["portal.ratelimit"][1]


db = Database()
login_manager = LoginManager()
csrf = CSRFProtect()
# No default limits: the sign-in steps declare their own (portal.auth.routes), counting failures.
limiter = AppLimiter(key_func=get_remote_address)
