"""Every route that sends a file sends it as a download that is never sniffed or rendered.

The upload type check looks only at a file's first bytes, so these headers are what keeps a
file from running as a page of the portal: Content-Disposition: attachment, nosniff, and a
sandbox CSP. The walk covers every GET route of the URL map as the users who may download.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from portal.api import tokens
from portal.downloads import DOWNLOAD_CSP
from portal.extensions import db
from portal.models import User
from tests import content_scenario

# The routes that send files; the walk fails when a new one appears (add it here) or one stops sending.
FILE_ENDPOINTS = {
    "attachments.download_file", "attachments.signature",            # item attachments, signature bundle
    "attachments_api.download_file", "attachments_api.signature",    # the same through the API
    "sharing.export",                                                # denials as CSV and JSON
    "meetings.ics", "meetings.calendar_feed",                        # one meeting, the private feed
    "meetings.registrations_csv",                                    # the secretariat's list of delegates
    "screening.download",                                            # a state's screening results
    "stix.kind_bundle", "stix.item_bundle",                          # STIX 2.1 bundles through the API
    "stix_pages.item_download",                                      # one item's STIX bundle from its page
    "public.guidance_file", "public.guidance_signature",             # the public side: files, bundles
    "public.feed",                                                   # the public Atom feed
    "overview.table_csv",                                            # activity overview counts
}
PAGE_TYPES = {"text/html", "application/json"}
# Machine probes answer plain text to monitoring, not files to people.
PROBES = {"main.health", "ops.healthz", "ops.readyz", "ops.metrics"}


def _is_file(response: Any) -> bool:
    return "Content-Disposition" in response.headers or response.mimetype not in PAGE_TYPES


def test_every_file_route_sends_the_three_download_headers(app: Flask, make_user: Any, login_as: Any) -> None:
    s = content_scenario.build(app, make_user)
    with app.app_context():
        user = db.session.get(User, s.accounts["dk"].id)
        assert user is not None
        bearer = tokens.create_token(db.session, user, "downloads", 30)
        db.session.remove()
    clients = {
        "dk": (login_as(app.test_client(), s.accounts["dk"]), {}),
        "secretariat": (login_as(app.test_client(), s.accounts["sec"]), {}),
        "dk-api": (app.test_client(), {"Authorization": f"Bearer {bearer}"}),
    }
    adapter = app.url_map.bind("localhost")
    seen: dict[str, list[str]] = {}
    problems = []
    for path in content_scenario.get_paths(app, s):
        endpoint = adapter.match(path, method="GET")[0]
        for who, (client, headers) in clients.items():
            if path.startswith("/api/") != who.endswith("-api"):
                continue
            response = client.get(path, headers=headers)
            if response.status_code != 200 or endpoint in PROBES or not _is_file(response):
                continue
            seen.setdefault(endpoint, []).append(path)
            where = f"{endpoint} {path} as {who}"
            if not response.headers.get("Content-Disposition", "").startswith("attachment;"):
                problems.append(f"{where}: Content-Disposition is {response.headers.get('Content-Disposition')!r}")
            if response.headers.get("X-Content-Type-Options") != "nosniff":
                problems.append(f"{where}: no X-Content-Type-Options: nosniff")
            csp = [part.strip() for part in response.headers.get("Content-Security-Policy", "").split(";")]
            if "sandbox" not in csp or "default-src 'none'" not in csp:
                problems.append(f"{where}: CSP is {response.headers.get('Content-Security-Policy')!r}, "
                                f"not {DOWNLOAD_CSP!r}")
    assert not problems, "\n".join(problems)
    # Every file route was reached (the walk did not miss one), and no other route sends files.
    assert set(seen) == FILE_ENDPOINTS, sorted(set(seen) ^ FILE_ENDPOINTS)
    assert {p.rsplit(".", 1)[-1] for p in seen["sharing.export"]} == {"csv", "json"}
