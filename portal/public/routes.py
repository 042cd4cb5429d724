"""The public side (/public/): no sign-in. Every route here is named in access.PUBLIC_ENDPOINTS.

What is shown is only what portal.public.service reads through access.public_items_filter and
access.public_attachments_filter; the contact form and consultation responses write only into
inboxes (the secretariat's, the calling state's), after the sender confirms the address.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from flask.blueprints import BlueprintSetupState
from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_limiter import RateLimitExceeded
from flask_limiter.util import get_remote_address

from portal import access, downloads
from portal.attachments import web
from portal.countries import service as countries
from portal.errors import ValidationFailed
from portal.extensions import db, limiter
from portal.forms import ButtonForm, apply_errors
from portal.kinds import KINDS, labels_for
from portal.models.base import utcnow
from portal.models.country import CountryStatus
from portal.public import consultations, contact, service
from portal.public.forms import ContactForm, ResponseForm
from portal.sharing.markdown import render
from portal.urls import external_url

bp = Blueprint("public", __name__, url_prefix="/public")

# The contact form's body is a few short fields and at most 5,000 characters of text.
MAX_CONTACT_BODY = 64 * 1024


def _limit_contact_body() -> None:
    if request.endpoint in ("public.contact_form", "public.consultation_respond"):
        request.max_content_length = MAX_CONTACT_BODY


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    # First of the app's hooks: the CSRF check and the rate limiter read the form before any
    # blueprint hook or the view could set the limit, so an oversized body would be parsed whole.
    state.app.before_request_funcs.setdefault(None, []).insert(0, _limit_contact_body)


@bp.app_template_global()
def public_kind_label(item: Any) -> str:
    return KINDS[item.kind].label


@bp.app_template_filter("atom_date")
def atom_date(value: datetime | None) -> str:
    """RFC 3339 in UTC, as Atom wants it (now, for an empty feed)."""
    return (value or utcnow()).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sent_form(_response: Response) -> bool:
    return bool(g.get("contact_accepted"))


def _email_key() -> str:
    return "contact-email:" + (request.form.get("email") or "").strip().lower()[:254]


# Shared by the contact form and consultation responses: one allowance for both.
per_address = limiter.shared_limit(lambda: current_app.config["CONTACT_ADDRESS_RATE_LIMIT"], scope="contact-address",
                                   key_func=lambda: "contact-address:" + (get_remote_address() or "-"),
                                   methods=["POST"])
# Per e-mail address, only forms that were accepted count: a typo does not use up the allowance.
per_email = limiter.shared_limit(lambda: current_app.config["CONTACT_EMAIL_RATE_LIMIT"], scope="contact-email",
                                 key_func=_email_key, methods=["POST"], deduct_when=_sent_form)


@bp.errorhandler(RateLimitExceeded)
def over_limit(_error: RateLimitExceeded) -> Any:
    if request.endpoint == "public.consultation_respond" and request.view_args:
        call = consultations.get_public(db.session, request.view_args["call_id"])
        return _consultation_page(call, ResponseForm(formdata=None), limited=True), 429
    return render_template("public/contact.html", form=ContactForm(formdata=None), retention=contact.retention_days(),
                           limited=True), 429


@bp.get("/")
def home() -> Any:
    register = countries.list_countries(db.session)
    return render_template(
        "public/home.html",
        subscribing=[c for c in register if c.status is CountryStatus.SUBSCRIBING],
        observers=[c for c in register if c.status is CountryStatus.OBSERVER],
        latest=service.list_public(db.session, limit=5))


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1


@bp.get("/guidance")
def guidance() -> Any:
    query = (request.args.get("q") or "").strip()[:service.MAX_QUERY]
    page = _page_number()
    entries = service.list_public(db.session, query, page, service.PAGE_SIZE + 1)
    return render_template("public/guidance.html", entries=entries[:service.PAGE_SIZE], query=query, page=page,
                           has_next=len(entries) > service.PAGE_SIZE)


@bp.get("/guidance/<uuid:item_id>")
def guidance_item(item_id: uuid.UUID) -> Any:
    entry = service.get_public(db.session, item_id)
    return render_template("public/item.html", entry=entry, item=entry.item, body_html=render(entry.item.body),
                           labels=labels_for(entry.item.kind), files=service.public_files(db.session, entry.item))


@bp.get("/guidance/<uuid:item_id>/files/<uuid:attachment_id>")
def guidance_file(item_id: uuid.UUID, attachment_id: uuid.UUID) -> Any:
    return web.file_response(service.open_public_file(db.session, item_id, attachment_id))


@bp.get("/guidance/<uuid:item_id>/files/<uuid:attachment_id>/signature")
def guidance_signature(item_id: uuid.UUID, attachment_id: uuid.UUID) -> Any:
    return web.bundle_response(service.public_signature(db.session, item_id, attachment_id))


@bp.get("/guidance.atom")
def feed() -> Any:
    entries = service.list_public(db.session, limit=50)
    body = render_template("public/feed.xml", entries=entries, self_url=external_url("public.feed"),
                           home_url=external_url("public.guidance"),
                           entry_url=lambda item: external_url("public.guidance_item", item_id=item.id))
    # Served like every other file (attachment, nosniff, sandbox): feed readers take it as it is.
    return downloads.download(body.encode("utf-8"), "application/atom+xml", "guidance.atom")


@bp.route("/contact", methods=["GET", "POST"])
@per_address
@per_email
def contact_form() -> Any:
    form = ContactForm()
    if form.validate_on_submit():
        if form.website.data:
            # A robot filled in the hidden field: answer as if all went well, keep nothing.
            return redirect(url_for("public.contact_sent"), 303)
        try:
            contact.submit(db.session, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            g.contact_accepted = True
            return redirect(url_for("public.contact_sent"), 303)
    return render_template("public/contact.html", form=form, retention=contact.retention_days(), limited=False)


@bp.get("/contact/sent")
def contact_sent() -> Any:
    return render_template("public/contact_sent.html", hours=contact.confirm_hours())


@bp.route("/contact/confirm/<token>", methods=["GET", "POST"])
def contact_confirm(token: str) -> Any:
    # A GET only shows the button: mail scanners that open links must not confirm for the sender.
    form = ButtonForm()
    if form.validate_on_submit():
        contact.confirm(db.session, token)
        return render_template("public/contact_confirmed.html", retention=contact.retention_days())
    return render_template("public/contact_confirm.html", form=form, token=token)


# --- public consultations -------------------------------------------------------------------

@bp.get("/consultations")
def consultations_index() -> Any:
    today = utcnow().date()
    calls = consultations.list_public(db.session)
    return render_template("public/consultations.html",
                           open_calls=[c for c in calls if access.public_consultation_open(c, today)],
                           closed_calls=[c for c in calls if not access.public_consultation_open(c, today)])


def _consultation_page(call: Any, form: ResponseForm, limited: bool = False) -> str:
    return render_template("public/consultation.html", call=call, form=form, limited=limited,
                           is_open=access.public_consultation_open(call, utcnow().date()),
                           retention=contact.retention_days())


@bp.get("/consultations/<uuid:call_id>")
def consultation(call_id: uuid.UUID) -> Any:
    return _consultation_page(consultations.get_public(db.session, call_id), ResponseForm())


@bp.post("/consultations/<uuid:call_id>/respond")
@per_address
@per_email
def consultation_respond(call_id: uuid.UUID) -> Any:
    call = consultations.get_public(db.session, call_id)
    form = ResponseForm()
    if form.validate_on_submit():
        if form.website.data:
            return redirect(url_for("public.contact_sent"), 303)  # the honeypot: keep nothing
        try:
            consultations.respond(db.session, call, form.payload())
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            g.contact_accepted = True
            return redirect(url_for("public.contact_sent"), 303)
    return _consultation_page(call, form), 400
