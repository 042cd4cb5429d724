"""Pages for threat notices, denials and best-practice documents. Thin: parse, call, render."""
from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any
from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user
from werkzeug.routing import BaseConverter, ValidationError

from portal import access, downloads
from portal.consultations import service as consultations
from portal.countries import service as countries
from portal.errors import Forbidden, NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import ReasonForm
from portal.models.country import CountryStatus
from portal.models.item import Item, ItemKind
from portal.kinds import BY_SLUG, KINDS, labels_for
from portal.models.base import utcnow
from portal.sharing import queries, review, service
from portal.sharing.records import (DENIAL_CSV_COLUMNS, denial_csv_row, export_record, highest_marking,
                                    marking_line, readable_fields)
from portal.sharing.forms import FORMS, ChangeNoteForm, DenialForm, ItemForm, error_list, form_data, place_error
from portal.sharing.markdown import render

bp = Blueprint("sharing", __name__)


class KindConverter(BaseConverter):
    """/threat-notices/, /denials/, /documents/ ↔ ItemKind."""

    # A regex, not only a check in to_python: otherwise /logout would match "/<kind>/" and be
    # redirected to /logout/ before the converter could refuse it.
    regex = "|".join(BY_SLUG)

    def to_python(self, value: str) -> ItemKind:
        if value not in BY_SLUG:
            raise ValidationError()
        return BY_SLUG[value].kind

    def to_url(self, value: Any) -> str:
        return KINDS[ItemKind(value)].slug


@bp.record_once
def _register_kind_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters.setdefault("kind", KindConverter)


@bp.app_context_processor
def sharing_labels() -> dict[str, Any]:
    # A printed list carries the strictest marking among the items it shows (as exports do).
    return {"item_kinds": KINDS, "highest_marking": highest_marking}


def item_url(item: Item, endpoint: str = "sharing.detail", **kwargs: Any) -> str:
    return url_for(endpoint, kind=item.kind, item_id=item.id, **kwargs)


def _load(kind: ItemKind, item_id: uuid.UUID) -> Item:
    return service.get_visible_item(db.session, current_user, item_id, kind)


def _build_form(kind: ItemKind, data: dict[str, Any] | None = None) -> ItemForm:
    form = FORMS[kind](data=data) if data is not None else FORMS[kind]()
    form.countries.choices = [(c.code, c.name) for c in countries.list_countries(db.session)
                              if c.status is CountryStatus.SUBSCRIBING and c.code != current_user.country_code]
    return form


def _show_errors(form: ItemForm, error: ValidationFailed) -> None:
    """Each error beside its field and once in the summary (never also as a page message)."""
    for path, message in error.fields.items():
        if path == "change_note":
            continue  # the change note is its own form's field (shown beside it by the amend page)
        if not place_error(form, path, message):
            form.form_errors.append(message)
    if not error.fields:
        form.form_errors.append(error.message)


def _add_or_remove_row(form: ItemForm) -> bool:
    """"Add another party" / "Remove" without JavaScript: the button posts the whole form back
    and the page comes back with what was typed and one row more (or less). Nothing is saved."""
    if not isinstance(form, DenialForm) or request.method != "POST":
        return False
    add, remove = request.form.get("add_row"), request.form.get("remove_row", "")
    if add in ("parties", "control_entries"):
        getattr(form, add).append_entry()
        return True
    name, _, index = remove.rpartition("-")
    if name in ("parties", "control_entries") and index.isdigit():
        rows = getattr(form, name)
        if int(index) < len(rows.entries) and len(rows.entries) > 1:
            rows.entries.pop(int(index))
        return True
    return False


def _render_form(kind: ItemKind, form: ItemForm, item: Item | None, mode: str,
                 note_form: ChangeNoteForm | None = None) -> Any:
    errors = error_list(form) + [("", message) for message in form.form_errors]
    if note_form is not None:
        errors += [(note_form.change_note.id, message) for message in note_form.change_note.errors]
    return render_template("sharing/form.html", kind=kind, form=form, item=item, mode=mode, errors=errors,
                           note_form=note_form)


@bp.get("/search")
def search() -> Any:
    query = (request.args.get("q") or "").strip()
    page = queries.list_items(db.session, current_user, None, request.args, for_table=True) if query else None
    return render_template("sharing/search.html", query=query, page=page)


@bp.get("/<kind:kind>/")
def index(kind: ItemKind) -> Any:
    page = queries.list_items(db.session, current_user, kind, request.args, for_table=True)
    filters = {name: request.args.get(name, "") for name in queries.FILTER_NAMES}
    return render_template("sharing/list.html", kind=kind, page=page, filters=filters,
                           countries=countries.list_countries(db.session), labels=labels_for(kind),
                           can_create=access.can_create_items(current_user, kind))


@bp.route("/<kind:kind>/new", methods=["GET", "POST"])
def new(kind: ItemKind) -> Any:
    if not access.can_create_items(current_user, kind):
        raise Forbidden("You may not create this kind of item.")
    prefill = request.args.get("from_consultation") if request.method == "GET" and kind is ItemKind.DENIAL else None
    form = _build_form(kind, _consultation_prefill(prefill) if prefill else None)
    if _add_or_remove_row(form):
        return _render_form(kind, form, None, "new")
    if form.validate_on_submit():
        try:
            item = service.create_draft(db.session, current_user, kind, form.payload())
        except ValidationFailed as error:
            _show_errors(form, error)
        else:
            flash("Draft saved. Only your state can see it until it is published. "
                  "You can come back to it and complete it later.", "success")
            return redirect(item_url(item))
    return _render_form(kind, form, None, "new")


def _consultation_prefill(raw: str) -> dict[str, Any]:
    """B's own denial, prefilled from the consultation it closed as denied."""
    try:
        consultation_id = uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None
    return consultations.denial_form_data(db.session, current_user, consultation_id)


@bp.get("/<kind:kind>/<uuid:item_id>")
def detail(kind: ItemKind, item_id: uuid.UUID) -> Any:
    item = _load(kind, item_id)
    service.record_open(db.session, current_user, item)
    return render_template("sharing/detail.html", item=item, body_html=render(item.body),
                           versions=service.released_versions(db.session, current_user, item),
                           events=service.events(db.session, current_user, item), labels=labels_for(item.kind),
                           receipts=queries.receipts(db.session, current_user, item),
                           country_names={c.code: c.name for c in countries.list_countries(db.session)},
                           action_form=ReasonForm(), grant_notices=_grant_notices(item), **_attachment_context(item))


def _grant_notices(item: Item) -> list[Any]:
    return consultations.grant_notices_for(db.session, current_user, item) if item.kind is ItemKind.DENIAL else []


def _attachment_context(item: Item) -> dict[str, Any]:
    try:
        from portal.attachments.service import attachments_for
    except ImportError:  # attachments are an optional layer until their blueprint lands
        return {"attachments": None, "can_attach": False}
    return {"attachments": attachments_for(db.session, current_user, item),
            "can_attach": access.can_attach(current_user, item)}


@bp.get("/<kind:kind>/<uuid:item_id>/versions/<int:number>")
def version(kind: ItemKind, item_id: uuid.UUID, number: int) -> Any:
    item = _load(kind, item_id)
    record = service.get_version(db.session, current_user, item, number)
    if record is None:
        raise NotFound()
    return render_template("sharing/version.html", item=item, version=record, body_html=render(record.body),
                           labels=labels_for(item.kind), fields=readable_fields(item.kind, record.details or {}))


@bp.route("/<kind:kind>/<uuid:item_id>/edit", methods=["GET", "POST"])
def edit(kind: ItemKind, item_id: uuid.UUID) -> Any:
    item = _load(kind, item_id)
    if not access.can_edit_draft(current_user, item):
        raise Forbidden("Only drafts of your own state can be edited.")
    return _edit_or_amend(item, "edit")


@bp.route("/<kind:kind>/<uuid:item_id>/amend", methods=["GET", "POST"])
def amend(kind: ItemKind, item_id: uuid.UUID) -> Any:
    item = _load(kind, item_id)
    if not access.can_amend(current_user, item):
        raise Forbidden("Only the originating state's point of contact amends a published item.")
    return _edit_or_amend(item, "amend")


def _edit_or_amend(item: Item, mode: str) -> Any:
    form = _build_form(item.kind, None if request.method == "POST" else form_data(item))
    note_form = ChangeNoteForm()
    if _add_or_remove_row(form):
        return _render_form(item.kind, form, item, mode, note_form=note_form)
    if form.validate_on_submit():
        try:
            if mode == "edit":
                service.update_draft(db.session, current_user, item, form.payload())
            else:
                service.amend(db.session, current_user, item, form.payload(),
                              note_form.change_note.data or "")
        except ValidationFailed as error:
            note_form.change_note.errors = [error.fields["change_note"]] if "change_note" in error.fields else []
            _show_errors(form, error)
        else:
            flash("Draft saved." if mode == "edit" else f"Version {item.version} is published.", "success")
            return redirect(item_url(item))
    return _render_form(item.kind, form, item, mode, note_form=note_form)


def _transition(kind: ItemKind, item_id: uuid.UUID, operation: Callable[[Item], None], done: str) -> Any:
    item = _load(kind, item_id)
    if not ReasonForm().validate_on_submit():
        abort(400)
    try:
        operation(item)
    except ValidationFailed as error:
        flash(error.message, "error")
    else:
        flash(done, "success")
    return redirect(item_url(item))


@bp.post("/<kind:kind>/<uuid:item_id>/submit")
def submit(kind: ItemKind, item_id: uuid.UUID) -> Any:
    return _transition(kind, item_id, lambda i: service.submit(db.session, current_user, i),
                       "Submitted: your point of contact can now release it.")


@bp.post("/<kind:kind>/<uuid:item_id>/publish")
def publish(kind: ItemKind, item_id: uuid.UUID) -> Any:
    return _transition(kind, item_id, lambda i: service.publish(db.session, current_user, i),
                       "Published to its audience.")


def _reason_page(kind: ItemKind, item_id: uuid.UUID, allowed: Callable[[Item], bool],
                 operation: Callable[[Item, str], None], title: str, done: str) -> Any:
    item = _load(kind, item_id)
    if not allowed(item):
        raise Forbidden("Only the originating state's point of contact does this.")
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            operation(item, form.reason.data or "")
        except ValidationFailed as error:
            form.reason.errors = [error.fields.get("reason", error.message)]
        else:
            flash(done, "success")
            return redirect(item_url(item))
    return render_template("sharing/reason.html", item=item, form=form, title=title)


@bp.route("/<kind:kind>/<uuid:item_id>/withdraw", methods=["GET", "POST"])
def withdraw(kind: ItemKind, item_id: uuid.UUID) -> Any:
    return _reason_page(kind, item_id,
                        lambda i: access.can_withdraw(current_user, i),
                        lambda i, reason: service.withdraw(db.session, current_user, i, reason),
                        "Withdraw", "Withdrawn. The audience now sees only the withdrawal notice.")


@bp.route("/denials/<uuid:item_id>/revoke", methods=["GET", "POST"])
def revoke(item_id: uuid.UUID) -> Any:
    return _reason_page(ItemKind.DENIAL, item_id,
                        lambda i: access.can_revoke(current_user, i),
                        lambda i, reason: service.revoke_denial(db.session, current_user, i, reason),
                        "Revoke the denial", "The denial is recorded as revoked.")


@bp.post("/denials/<uuid:item_id>/renew")
def renew(item_id: uuid.UUID) -> Any:
    reason = ReasonForm().reason.data or ""  # optional: why the denial stays in force
    return _transition(ItemKind.DENIAL, item_id, lambda i: service.renew_denial(db.session, current_user, i, reason),
                       "Renewed for three more years.")


@bp.get("/denials/due-for-review")
def review_due() -> Any:
    today = utcnow().date()
    return render_template("sharing/review_due.html", items=review.due_for_review(db.session, current_user, today),
                           today=today, action_form=ReasonForm())


@bp.get("/denials/export.<any('csv', 'json'):fmt>")
def export(fmt: str) -> Any:
    items = queries.exportable_denials(db.session, current_user, request.args)
    # The file name and the first line carry the strictest marking inside, so the file is
    # marked wherever it goes (a folder listing, an e-mail attachment, a printout).
    marking = highest_marking(items)
    if fmt == "json":
        records = ",\n".join(json.dumps(export_record(i, current_user), ensure_ascii=False) for i in items)
        body = (f'{{"marking": {json.dumps(marking_line(marking))},\n"denials": [\n'
                f'{records}{chr(10) if records else ""}]}}\n')
        response = Response(body, mimetype="application/json")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([marking_line(marking)])
        writer.writerow(DENIAL_CSV_COLUMNS)
        writer.writerows(denial_csv_row(i, current_user) for i in items)
        response = Response(buffer.getvalue(), mimetype="text/csv")
    return downloads.protect(response, f"echri-denials_TLP-{marking.value.replace('+', '-')}.{fmt}")
