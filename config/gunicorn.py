"""gunicorn settings for production: `gunicorn -c config/gunicorn.py wsgi:app`.

Every value can be set from the environment (the GUNICORN_* names below); the defaults suit
one machine behind a reverse proxy. Settings that matter for safety:

- FORWARDED_ALLOW_IPS: the proxy's address(es). gunicorn believes X-Forwarded-Proto only
  from these, and the app (TRUSTED_PROXY_COUNT > 0, see portal/proxy.py) believes
  X-Forwarded-For/-Host only from these. Default: loopback only; never "*" unless the app
  port cannot be reached except through the proxy.
- No access log: gunicorn's would record full URLs with query strings (search words, the
  calendar feed's private token). The app logs one line per request itself, by endpoint name.
- PROMETHEUS_MULTIPROC_DIR: with several workers, set it to an empty folder only this
  service writes (clear it before each start); each worker's metrics go there and /metrics
  adds them up. `child_exit` below retires a dead worker's live gauges.
"""
from __future__ import annotations

import multiprocessing
import os

_env = os.environ.get

bind = _env("GUNICORN_BIND", "127.0.0.1:8000")
# CPU-bound work (argon2, AES-GCM, templates) and I/O (database, storage) in similar measure:
# the usual 2 × cores + 1 processes, each with a few threads for requests waiting on I/O.
workers = int(_env("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(_env("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Uploads and downloads of 100 MiB stream through the worker: generous, but bounded.
timeout = int(_env("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(_env("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(_env("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so a slow leak cannot grow without bound; jitter avoids all
# workers restarting at once.
max_requests = int(_env("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(_env("GUNICORN_MAX_REQUESTS_JITTER", "500"))
# Headers and request lines: the portal needs nothing beyond these limits.
limit_request_line = 8190
limit_request_fields = 100

forwarded_allow_ips = _env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

accesslog = None
errorlog = "-"
loglevel = _env("GUNICORN_LOGLEVEL", "info")
# Load the app once in the master, then fork: workers share its memory and a broken
# configuration fails before any worker starts.
preload_app = _env("GUNICORN_PRELOAD", "0") in ("1", "true", "yes")  # off: no DB pool crosses a fork

if _env("LOG_FORMAT", _env("PORTAL_LOG_FORMAT", "json" if _env("PORTAL_CONFIG") == "production" else "")) == "json":
    # gunicorn's own messages (worker boots, timeouts) in the same one-object-per-line format.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logs.JsonFormatter"}},
        "handlers": {"stderr": {"class": "portal.logs.StderrHandler", "formatter": "json"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stderr"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": [], "propagate": False},
        },
    }


def child_exit(server: object, worker: object) -> None:
    """A worker has exited: tell prometheus-client so its live gauges stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
