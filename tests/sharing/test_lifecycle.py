"""The life of a shared item through the real pages: draft, submit, publish, amend,
withdraw; denial revocation, renewal and lapse; unique national references; validation;
read receipts. Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AuditEntry, DenialStatus, Item, ItemEvent, ItemStatus, ItemVersion
from portal.models.base import utcnow
from portal.sharing import service
from tests.conftest import audit_actions, csrf_token
from tests.sharing import helpers
from tests.sharing.helpers import api_url, bearer, item_url, to_form, unique_word


def counts(app: Flask) -> tuple[int, int, int, int]:
    """Rows of items, versions, events and audit entries: a refused operation changes none."""
    with app.app_context():
        result = tuple(db.session.scalar(select(func.count()).select_from(model))
                       for model in (Item, ItemVersion, ItemEvent, AuditEntry))
        db.session.remove()
    return result  # type: ignore[return-value]


def event_kinds(app: Flask, item_id: uuid.UUID) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = [(e.kind.value, e.note) for e in db.session.scalars(
            select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.id))]
        db.session.remove()
    return rows


def new_item_id(response: Any) -> uuid.UUID:
    assert response.status_code == 302, re.findall(r"error-summary.*?</ul>", response.get_data(as_text=True), re.S)
    match = re.search(r"/(?:denials|threat-notices|documents)/([0-9a-f-]{36})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return uuid.UUID(match.group(1))


def test_draft_submit_publish_amend_withdraw(app: Flask, make_user: Any, login_as: Any) -> None:
    officer, spoc = make_user("officer", "DK"), make_user("spoc", "DK")
    no_officer, no_reader = make_user("officer", "NO"), make_user("reader", "NO")
    title_word, body_word, new_word = unique_word(), unique_word(), unique_word()
    payload = helpers.denial_payload(title=f"Denial {title_word}", body=f"Old details {body_word}.",
                                     national_ref="DK-2026-0042")

    # An officer drafts through the form.
    c_officer = login_as(app.test_client(), officer)
    response = c_officer.post("/denials/new", data=to_form("denial", payload, csrf_token=csrf_token(c_officer)))
    item_id = new_item_id(response)
    item = helpers.load_item(app, item_id)
    assert (item.status, item.version, item.originator_code, item.national_ref) == (
        ItemStatus.DRAFT, 0, "DK", "DK-2026-0042")
    assert item.details["parties"] == payload["parties"]
    assert item.details["control_entries"] == payload["control_entries"]
    c_no = login_as(app.test_client(), no_officer)
    assert c_no.get(item_url("denial", item_id)).status_code == 404  # drafts stay home

    # ... submits it for release; the SPOC finds it waiting on the home page.
    token = csrf_token(c_officer)
    assert c_officer.post(item_url("denial", item_id, "/submit"), data={"csrf_token": token}).status_code == 302
    assert helpers.load_item(app, item_id).status is ItemStatus.SUBMITTED
    c_spoc = login_as(app.test_client(), spoc)
    home = c_spoc.get("/").get_data(as_text=True)
    assert "Waiting for you to release" in home and item_url("denial", item_id) in home
    assert "Waiting for you to release" not in c_officer.get("/").get_data(as_text=True)

    # The SPOC publishes: version 1, the denial is active with a review date three years after its decision.
    spoc_token = csrf_token(c_spoc)
    assert c_spoc.post(item_url("denial", item_id, "/publish"), data={"csrf_token": spoc_token}).status_code == 302
    item = helpers.load_item(app, item_id)
    assert (item.status, item.version, item.denial_status) == (ItemStatus.PUBLISHED, 1, DenialStatus.ACTIVE)
    today = utcnow().date()
    decided = date.fromisoformat(payload["decision_date"])
    assert item.review_date == decided.replace(year=decided.year + 3)
    page = c_no.get(item_url("denial", item_id)).get_data(as_text=True)
    assert title_word in page and body_word in page

    # Amend: a new version with a change note; the old version stays readable as it was.
    amended = {**payload, "title": f"Denial {title_word} {new_word}", "body": f"New details {new_word}."}
    response = c_spoc.post(item_url("denial", item_id, "/amend"),
                           data=to_form("denial", amended, csrf_token=spoc_token, change_note="Corrected the alias."))
    assert response.status_code == 302, response.get_data(as_text=True)
    item = helpers.load_item(app, item_id)
    assert (item.version, item.denial_status, item.body) == (2, DenialStatus.AMENDED, f"New details {new_word}.")
    page = c_no.get(item_url("denial", item_id)).get_data(as_text=True)
    assert new_word in page and body_word not in page
    assert "Version 2" in page and "Version 1" in page and "Corrected the alias." in page
    old = c_no.get(item_url("denial", item_id, "/versions/1")).get_data(as_text=True)
    assert body_word in old and new_word not in old
    new = c_no.get(item_url("denial", item_id, "/versions/2")).get_data(as_text=True)
    assert new_word in new and "Corrected the alias." in new
    assert c_no.get(item_url("denial", item_id, "/versions/3")).status_code == 404

    # Withdraw: the audience keeps only the notice and the reason.
    response = c_spoc.post(item_url("denial", item_id, "/withdraw"),
                           data={"csrf_token": spoc_token, "reason": "Licence decision annulled by the court."})
    assert response.status_code == 302
    item = helpers.load_item(app, item_id)
    assert item.status is ItemStatus.WITHDRAWN and item.withdrawal_reason == "Licence decision annulled by the court."
    for client in (c_no, login_as(app.test_client(), no_reader)):
        page = client.get(item_url("denial", item_id)).get_data(as_text=True)
        assert "Withdrawn" in page and "Licence decision annulled by the court." in page
        for secret in (new_word + ".", body_word, payload["summary"], payload["parties"][0]["name"],
                       payload["rationale"], payload["item_description"]):
            assert secret not in page
        assert client.get(item_url("denial", item_id, "/versions/1")).status_code == 404
        assert client.get(item_url("denial", item_id, "/versions/2")).status_code == 404
    record = c_no.get(api_url("denial", item_id), headers=bearer(helpers.api_token(app, no_officer))).get_json()
    assert record["status"] == "withdrawn" and record["body"] is None and record["body_html"] is None
    assert record["summary"] is None and "parties" not in record and "rationale" not in record
    assert record["withdrawal"]["reason"] == "Licence decision annulled by the court."
    listed = c_no.get("/denials/").get_data(as_text=True)
    assert item_url("denial", item_id) in listed and "DK-2026-0042" not in listed and payload["summary"] not in listed
    # Search: the notice is found by its title, never by its former content.
    assert item_url("denial", item_id) in c_no.get("/search", query_string={"q": title_word}).get_data(as_text=True)
    assert item_url("denial", item_id) not in c_no.get("/search", query_string={"q": new_word + " details"}
                                                       ).get_data(as_text=True)
    for word in (body_word, "Nay Pyi Taw", "IMSI"):
        assert "Nothing you can see matches" in c_no.get("/search", query_string={"q": word}).get_data(as_text=True)

    assert [k for k, _ in event_kinds(app, item_id)] == ["created", "submitted", "published", "amended", "withdrawn"]
    assert [a for a in audit_actions(app, item_id) if a.startswith("item.") and a != "item.opened"] == [
        "item.created", "item.submitted", "item.published", "item.amended", "item.withdrawn"]


def test_amend_requires_change_note_and_keeps_version(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc = make_user("spoc", "DK")
    item_id = helpers.make_item(app, spoc, "threat_notice")
    client = login_as(app.test_client(), spoc)
    before = counts(app)
    response = client.post(item_url("threat_notice", item_id, "/amend"),
                           data=to_form("threat_notice", helpers.threat_payload(title="Changed"),
                                        csrf_token=csrf_token(client), change_note="  "))
    assert response.status_code == 200
    assert 'id="change_note-error"' in response.get_data(as_text=True)
    assert counts(app) == before and helpers.load_item(app, item_id).version == 1


def test_threat_notice_and_document_through_forms(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, secretariat = make_user("spoc", "NO"), make_user("secretariat")
    client = login_as(app.test_client(), spoc)
    payload = helpers.threat_payload(categories=["intrusion_software", "biometrics"], entities=["A Ltd", "B GmbH"])
    item_id = new_item_id(client.post("/threat-notices/new",
                                      data=to_form("threat_notice", payload, csrf_token=csrf_token(client))))
    item = helpers.load_item(app, item_id)
    assert item.category_slugs == ["biometrics", "intrusion_software"] and item.severity == "high"
    assert item.details["entities"] == ["A Ltd", "B GmbH"] and item.details["regions"] == ["MM", "BY"]
    assert item.details["valid_until"] == "2027-12-31"
    # A state's SPOC may also share a best-practice document; the secretariat only documents.
    sec = login_as(app.test_client(), secretariat)
    doc_id = new_item_id(sec.post("/documents/new", data=to_form("document", helpers.document_payload(),
                                                                    csrf_token=csrf_token(sec))))
    doc = helpers.load_item(app, doc_id)
    assert doc.originator_code is None and doc.category == "due_diligence"
    assert sec.get("/denials/new").status_code == 403 and sec.get("/threat-notices/new").status_code == 403
    assert sec.post(item_url("document", doc_id, "/publish"), data={"csrf_token": csrf_token(sec)}).status_code == 302
    assert helpers.load_item(app, doc_id).status is ItemStatus.PUBLISHED
    # The secretariat keeps seeing (and may amend) its own document once published.
    assert sec.get(item_url("document", doc_id)).status_code == 200
    assert sec.get(item_url("document", doc_id, "/amend")).status_code == 200


def test_revoke_renew_and_lapse_are_recorded(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, reader = make_user("spoc", "DK"), make_user("reader", "FR")
    revoked, renewed, untouched = (helpers.make_item(app, spoc) for _ in range(3))
    client = login_as(app.test_client(), spoc)
    token = csrf_token(client)

    # Revoke needs a reason; with one, the denial is revoked and the event carries it.
    before = counts(app)
    response = client.post(f"/denials/{revoked}/revoke", data={"csrf_token": token, "reason": " "})
    assert response.status_code == 200 and 'id="reason-error"' in response.get_data(as_text=True)
    assert counts(app) == before
    response = client.post(f"/denials/{revoked}/revoke", data={"csrf_token": token, "reason": "Court ruling."})
    assert response.status_code == 302
    assert helpers.load_item(app, revoked).denial_status is DenialStatus.REVOKED
    assert event_kinds(app, revoked)[-1] == ("revoked", "Court ruling.")
    # A revoked denial cannot be renewed (a new denial is notified instead).
    before = counts(app)
    response = client.post(f"/denials/{revoked}/renew", data={"csrf_token": token}, follow_redirects=True)
    assert "cannot be renewed" in response.get_data(as_text=True)
    assert counts(app) == before and helpers.load_item(app, revoked).denial_status is DenialStatus.REVOKED
    # The audience sees the revocation on the page (the notification stays readable).
    page = login_as(app.test_client(), reader).get(f"/denials/{revoked}").get_data(as_text=True)
    assert "revoked" in page.lower() and "Court ruling." in page

    # Renewal moves the review date three years from today.
    with app.app_context():
        item = db.session.get(Item, renewed)
        item.review_date = date(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    assert client.post(f"/denials/{renewed}/renew", data={"csrf_token": token}).status_code == 302
    item = helpers.load_item(app, renewed)
    today = utcnow().date()
    assert item.denial_status is DenialStatus.ACTIVE and item.review_date.year == today.year + 3
    assert event_kinds(app, renewed)[-1][0] == "renewed"

    # The daily lapse job: nothing before the review date; after it, active denials lapse.
    review = helpers.load_item(app, untouched).review_date
    with app.app_context():
        assert service.lapse_overdue_denials(db.session, today=review) == 0
        assert service.lapse_overdue_denials(db.session, today=item.review_date + timedelta(days=1)) == 2
        assert service.lapse_overdue_denials(db.session, today=item.review_date + timedelta(days=2)) == 0
        db.session.remove()
    assert helpers.load_item(app, untouched).denial_status is DenialStatus.LAPSED
    assert helpers.load_item(app, renewed).denial_status is DenialStatus.LAPSED
    assert helpers.load_item(app, revoked).denial_status is DenialStatus.REVOKED  # revoked stays revoked
    assert event_kinds(app, untouched)[-1][0] == "lapsed"
    assert "item.lapsed" in audit_actions(app, untouched)
    # Lapsed denials are listed under that filter.
    html = client.get("/denials/", query_string={"status": "lapsed"}).get_data(as_text=True)
    assert f"/denials/{untouched}" in html and f"/denials/{revoked}" not in html


def test_national_reference_is_unique_per_state(app: Flask, make_user: Any, login_as: Any) -> None:
    dk, dk2, no = make_user("spoc", "DK"), make_user("officer", "DK"), make_user("spoc", "NO")
    ref = "DK-2026-0042"
    response = app.test_client().post(api_url("denial"), json=helpers.denial_payload(national_ref=ref),
                                      headers=bearer(helpers.api_token(app, dk)))
    assert response.status_code == 201
    before = counts(app)

    response = app.test_client().post(api_url("denial"), json=helpers.denial_payload(national_ref=ref),
                                      headers=bearer(helpers.api_token(app, dk2)))
    assert response.status_code == 422
    assert set(response.get_json()["error"]) >= {"code", "message", "fields"}
    assert "national_ref" in response.get_json()["error"]["fields"]
    client = login_as(app.test_client(), dk2)
    after_token = counts(app)
    response = client.post("/denials/new", data=to_form("denial", helpers.denial_payload(national_ref=ref),
                                                        csrf_token=csrf_token(client)))
    assert response.status_code == 200
    assert 'id="national_ref-error"' in response.get_data(as_text=True)
    assert counts(app) == after_token  # nothing half-written
    assert counts(app)[:3] == before[:3]

    # Norway may use the same reference; a second DK draft may not take it by editing either.
    response = app.test_client().post(api_url("denial"), json=helpers.denial_payload(national_ref=ref),
                                      headers=bearer(helpers.api_token(app, no)))
    assert response.status_code == 201
    other = helpers.make_item(app, dk, status="draft", national_ref="DK-2026-0043")
    response = app.test_client().patch(api_url("denial", other), json={"national_ref": ref},
                                       headers=bearer(helpers.api_token(app, dk)))
    assert response.status_code == 422 and "national_ref" in response.get_json()["error"]["fields"]
    assert helpers.load_item(app, other).national_ref == "DK-2026-0043"


# (payload change, error field in the API, form field that shows the error)
INVALID = [
    pytest.param({"tlp": "RED", "audience": helpers.audience(all_subscribing=True, countries=["NO"])},
                 "audience.all_subscribing", "all_subscribing", id="red-to-all"),
    pytest.param({"tlp": "RED", "audience": helpers.audience()}, "audience.countries", "countries", id="red-unnamed"),
    pytest.param({"tlp": "AMBER", "audience": helpers.audience(all_subscribing=True, observers=True)},
                 "audience.observers", "observers", id="amber-to-observers"),
    pytest.param({"tlp": "RED", "audience": helpers.audience(countries=["NO"], observers=True)},
                 "audience.observers", "observers", id="red-to-observers"),
    pytest.param({"audience": helpers.audience(countries=["QQ"])}, "audience.countries", "countries",
                 id="unknown-country"),
    pytest.param({"audience": helpers.audience(countries=["CR"])}, "audience.countries", "countries",
                 id="observer-state-named"),
    pytest.param({"decision_date": "2026-13-45"}, "decision_date", "decision_date", id="bad-date"),
    pytest.param({"decision_date": "2 March 2026"}, "decision_date", "decision_date", id="worded-date"),
    pytest.param({"decision_type": "confiscation"}, "decision_type", "decision_type", id="bad-decision-type"),
    pytest.param({"tlp": "PURPLE"}, "tlp", "tlp", id="bad-tlp"),
    pytest.param({"basis": "whim"}, "basis", "basis", id="bad-basis"),
    pytest.param({"reason_codes": ["because"]}, "reason_codes", "reason_codes", id="bad-reason-code"),
    pytest.param({"title": "   "}, "title", "title", id="blank-title"),
    pytest.param({"destination": "Myanmar"}, "destination", "destination", id="bad-destination"),
    pytest.param({"parties": [{"role": "king", "name": "X", "aliases": [], "address": "", "country": ""}]},
                 "parties[0].role", "parties-0-role", id="bad-party-role"),
    pytest.param({"destination": "QQ"}, "destination", "destination", id="not-a-country"),
    pytest.param({"parties": [{"role": "end_user", "name": "X", "aliases": [], "address": "", "country": "QQ"}]},
                 "parties[0].country", "parties-0-country", id="party-not-a-country"),
]

# Missing fields do not stop a draft (it saves part-filled); they stop submitting and publishing.
INCOMPLETE = [
    pytest.param({"decision_date": ""}, "decision_date", "Enter the date of the decision.", id="missing-date"),
    pytest.param({"reason_codes": []}, "reason_codes", "Choose at least one reason.", id="no-reason"),
    pytest.param({"parties": [helpers.denial_payload()["parties"][0],
                              {"role": "end_user", "name": "", "aliases": [], "address": "", "country": ""}]},
                 "parties[1].name", "Party 2: enter the name.", id="party-without-name"),
    pytest.param({"parties": [{"role": None, "name": "Acme", "aliases": [], "address": "", "country": ""}]},
                 "parties[0].role", "Party 1: choose a role.", id="party-without-role"),
    pytest.param({"national_ref": ""}, "national_ref", "Enter your national reference.", id="missing-ref"),
    pytest.param({"control_entries": [{"regime": "Wassenaar", "code": ""}]}, "control_entries[0].code",
                 "Control-list entry 1: enter the entry code.", id="entry-without-code"),
]


@pytest.mark.parametrize(("change", "api_field", "message"), INCOMPLETE)
def test_incomplete_denial_saves_as_draft_and_is_refused_at_publish(
        app: Flask, make_user: Any, login_as: Any, change: dict[str, Any], api_field: str, message: str) -> None:
    spoc = make_user("spoc", "DK")
    token = helpers.api_token(app, spoc)
    payload = helpers.denial_payload(**change)
    created = app.test_client().post(api_url("denial"), json=payload, headers=bearer(token))
    assert created.status_code == 201, created.get_json()
    item_id = created.get_json()["id"]
    before = counts(app)
    refused = app.test_client().post(api_url("denial", item_id, "/publish"), headers=bearer(token))
    assert refused.status_code == 422
    assert refused.get_json()["error"]["fields"][api_field] == message
    assert counts(app) == before  # still a draft: no version, no event

    client = login_as(app.test_client(), spoc)
    response = client.post(item_url("denial", item_id, "/publish"), data={"csrf_token": csrf_token(client)},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Complete the draft first" in html and message.replace("'", "&#39;") in html
    assert counts(app) == before


def test_a_long_denial_saves_with_only_a_title(app: Flask, make_user: Any, login_as: Any) -> None:
    client = login_as(app.test_client(), make_user("officer", "DK"))
    before = counts(app)
    response = client.post("/denials/new", data={"csrf_token": csrf_token(client), "title": "Half-written denial",
                                                 "tlp": "AMBER", "parties-0-name": "Acme Ltd"})
    assert response.status_code == 302, re.findall(r"error-summary.*?</ul>", response.get_data(as_text=True), re.S)
    assert counts(app)[0] == before[0] + 1
    with app.app_context():
        item = db.session.scalar(select(Item).where(Item.title == "Half-written denial"))
        assert item is not None and item.status is ItemStatus.DRAFT and item.national_ref is None
        assert item.details["parties"] == [{"role": None, "name": "Acme Ltd", "aliases": [], "address": "",
                                            "country": ""}]
        db.session.remove()
    # A title is needed even for a draft; the message says what to do, once.
    response = client.post("/denials/new", data={"csrf_token": csrf_token(client), "title": "", "tlp": "AMBER"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("Enter a title.") == 2  # the summary and beside the field
    assert 'notice-error' not in html


@pytest.mark.parametrize(("change", "api_field", "form_field"), INVALID)
def test_invalid_denials_are_refused_whole(app: Flask, make_user: Any, login_as: Any, observer_state: str,
                                           change: dict[str, Any], api_field: str, form_field: str) -> None:
    spoc = make_user("spoc", "DK")
    before = counts(app)
    payload = helpers.denial_payload(**change)
    response = app.test_client().post(api_url("denial"), json=payload, headers=bearer(helpers.api_token(app, spoc)))
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and error["message"]
    assert api_field in error["fields"], error

    client = login_as(app.test_client(), spoc)
    after_token = counts(app)
    response = client.post("/denials/new", data=to_form("denial", payload, csrf_token=csrf_token(client)))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and f'id="{form_field}-error"' in html, html[:3000]
    assert counts(app) == after_token and counts(app)[:3] == before[:3]  # no item, version or event


def test_invalid_threat_notice_fields(app: Flask, make_user: Any) -> None:
    token = helpers.api_token(app, make_user("officer", "DK"))
    payload = helpers.threat_payload(severity="apocalyptic", categories=["time_travel"], regions=["Burma"],
                                     valid_until="soon", entities="not a list")
    response = app.test_client().post(api_url("threat_notice"), json=payload, headers=bearer(token))
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) >= {"severity", "categories", "regions", "valid_until",
                                                           "entities"}


def test_read_receipts_are_for_the_originating_state(app: Flask, make_user: Any, login_as: Any) -> None:
    spoc, officer, reader = make_user("spoc", "DK"), make_user("officer", "DK"), make_user("reader", "DK")
    no_1, no_2, fr = make_user("officer", "NO"), make_user("reader", "NO"), make_user("reader", "FR")
    item_id = helpers.make_item(app, spoc, tlp="GREEN", audience=helpers.audience(countries=["NO", "FR", "DE"]))
    url = item_url("denial", item_id)

    c_spoc = login_as(app.test_client(), spoc)
    page = c_spoc.get(url).get_data(as_text=True)
    assert "Opened by 0 of 3 states" in page

    for account in (no_1, no_2):
        client = login_as(app.test_client(), account)
        client.get(url)
        client.get(url)  # a second visit is not a second receipt
    app.test_client().get(api_url("denial", item_id), headers=bearer(helpers.api_token(app, fr)))
    login_as(app.test_client(), reader).get(url)  # the originating state's own reads are not receipts

    for account in (spoc, officer):
        page = login_as(app.test_client(), account).get(url).get_data(as_text=True)
        section = page.split("Who saw it", 1)[1]
        rows = re.findall(r"<tr data-state=\"\w+\"><td>([^<]+)</td><td><span [^>]+>Opened</span></td><td>[^<]+</td><td>(\d+)</td></tr>", section)
        assert sorted(rows) == [("France", "1"), ("Norway", "2")]
        assert "Opened by 2 of 3 states" in section and "Denmark" not in section.split("</section>")[0]
    for account in (no_1, fr, reader):
        page = login_as(app.test_client(), account).get(url).get_data(as_text=True)
        assert "Opened by" not in page
    opened = [a for a in audit_actions(app, item_id) if a == "item.opened"]
    assert len(opened) == 3


def _new_on_home(client: Any) -> dict[str, tuple[bool, int]]:
    """"New in the last 30 days" on the home page: {kind label: (more than, count)}."""
    html = client.get("/").get_data(as_text=True)
    section = html[html.index("New in the last 30 days"):]
    return {label: (bool(more), int(count.replace(",", ""))) for more, count, label in
            re.findall(r"<strong>(More than )?([\d,]+)</strong> ([a-z -]+?)s?</a>", section)}


def test_the_home_page_counts_what_is_new_for_the_viewer_and_caps_the_count(app: Flask, make_user: Any,
                                                                           login_as: Any) -> None:
    no_spoc, viewer = make_user("spoc", "NO"), make_user("officer", "DK")
    client = login_as(app.test_client(), viewer)
    before = _new_on_home(client)
    helpers.make_item(app, no_spoc, "denial")
    helpers.make_item(app, no_spoc, "denial")
    helpers.make_item(app, no_spoc, "threat_notice")
    helpers.make_item(app, no_spoc, "denial", audience=helpers.audience(countries=["FR"]))  # not for DK
    helpers.make_item(app, no_spoc, "denial", "draft")  # not released
    after = _new_on_home(client)
    assert after["licence-denial notification"] == (False, before["licence-denial notification"][1] + 2)
    assert after["threat notice"] == (False, before["threat notice"][1] + 1)

    app.config["COUNT_CAP"] = after["licence-denial notification"][1] - 1  # a busy month: the count stops at the cap
    assert _new_on_home(client)["licence-denial notification"] == (True, after["licence-denial notification"][1] - 1)
