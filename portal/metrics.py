"""Prometheus metrics: request counts and latency per endpoint, plus gauges read at scrape time.

Labels are endpoint names (``sharing.index``), never URLs, so no item id, search word or
calendar token becomes a label; nothing here reads item content or e-mail addresses.

Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR to an empty, writable folder (wiped at
each start) before gunicorn starts. prometheus-client then keeps each worker's counters in
files there and a scrape, answered by any worker, adds them all up; config/gunicorn.py marks
a worker's files dead when it exits. Without the variable each process counts for itself.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models.audit import AuditEntry
from portal.models.notification import OutboxMessage, OutboxStatus

# Request metrics live in their own registry, not the library's global one, so the exposition
# holds exactly what is described here (in multiprocess mode the files are what counts).
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter("portal_http_requests", "HTTP requests answered, by endpoint name, method and status class.",
                   ["endpoint", "method", "status"], registry=REGISTRY)
LATENCY = Histogram("portal_http_request_duration_seconds", "Time to answer a request, by endpoint name.",
                    ["endpoint"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
UPLOADS = Counter("portal_attachment_uploads", "Attachments stored (web and API).", registry=REGISTRY)
DOWNLOADS = Counter("portal_attachment_downloads", "Attachments served after verification (web and API).",
                    registry=REGISTRY)

UPLOAD_ENDPOINTS = frozenset({"attachments.upload", "attachments_api.upload"})
DOWNLOAD_ENDPOINTS = frozenset({"attachments.download_file", "attachments_api.download_file"})

# Audit actions counted at scrape time (the audit log is append-only, so these only grow).
LOGIN_ACTIONS = {
    "login.success": "password_accepted",
    "mfa.verified": "signed_in",
    "login.failure": "failure",
    "login.locked": "locked",
}


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count one answered request (called once per request by portal.logs)."""
    name = endpoint or "unmatched"  # 404s for unknown URLs share one label: URLs never become labels
    REQUESTS.labels(name, method, f"{status // 100}xx").inc()
    LATENCY.labels(name).observe(seconds)
    if status < 400:
        if endpoint in UPLOAD_ENDPOINTS:
            UPLOADS.inc()
        elif endpoint in DOWNLOAD_ENDPOINTS:
            DOWNLOADS.inc()


class _Snapshot(Collector):
    """Values read from the database for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


def database_families(session: Session) -> list[Metric]:
    """Outbox depth and failures, logins and lockouts: counts only, read now."""
    outbox = dict(session.execute(
        select(OutboxMessage.status, func.count()).where(
            OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.FAILED))).group_by(OutboxMessage.status)
    ).all())
    retrying = session.scalar(select(func.count()).where(
        OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)) or 0
    depth = GaugeMetricFamily("portal_outbox_pending", "E-mails waiting in the outbox (including retries).")
    depth.add_metric([], outbox.get(OutboxStatus.PENDING, 0))
    retry = GaugeMetricFamily("portal_outbox_retrying", "Pending e-mails that have failed at least once.")
    retry.add_metric([], retrying)
    failed = GaugeMetricFamily("portal_outbox_failed", "E-mails given up after the last retry.")
    failed.add_metric([], outbox.get(OutboxStatus.FAILED, 0))

    logins = dict(session.execute(
        select(AuditEntry.action, func.count()).where(AuditEntry.action.in_(LOGIN_ACTIONS)).group_by(AuditEntry.action)
    ).all())
    family = CounterMetricFamily("portal_logins", "Sign-in events from the audit log, by result.", labels=["result"])
    for action, result in LOGIN_ACTIONS.items():
        family.add_metric([result], logins.get(action, 0))
    lockouts = CounterMetricFamily("portal_login_lockouts", "Accounts locked after repeated failures.")
    lockouts.add_metric([], logins.get("login.locked", 0))
    return [depth, retry, failed, family, lockouts]


def exposition(session: Session) -> bytes:
    """The text exposition format: this process's (or all workers') counters plus database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_RegistryCollector(REGISTRY))
    registry.register(_Snapshot(database_families(session)))
    return generate_latest(registry)


class _RegistryCollector(Collector):
    """Adapts a registry to a collector, so one scrape can join it with the snapshot."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return iter(self.registry.collect())
