"""Signed-in pages of the originating state: publish an item on the public side, or take it off."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.blueprints import BlueprintSetupState
from flask_login import current_user

from portal import access
from portal.errors import Forbidden
from portal.extensions import db
from portal.forms import ButtonForm
from portal.models.item import Item
from portal.public import service
from portal.sharing.service import get_visible_item

bp = Blueprint("public_publishing", __name__)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    # The item page asks whether an item is on the public side, to offer the right action.
    state.app.jinja_env.globals.setdefault("is_public_item", lambda item: service.is_public(db.session, item))


def _item_page(item: Item) -> str:
    return url_for("sharing.detail", kind=item.kind, item_id=item.id)


@bp.route("/items/<uuid:item_id>/publish-publicly", methods=["GET", "POST"])
def publish(item_id: uuid.UUID) -> Any:
    item = get_visible_item(db.session, current_user, item_id)
    if not access.can_publish_publicly(current_user, item, service.is_public(db.session, item)):
        raise Forbidden("Only the originating state's point of contact publishes a published TLP:CLEAR "
                        "threat notice or best-practice document publicly.")
    form = ButtonForm()
    if form.validate_on_submit():
        service.publish_publicly(db.session, current_user, item)
        flash("Published on the public side: anyone can now read its current version and download its files.",
              "success")
        return redirect(_item_page(item), 303)
    return render_template("public/confirm_publish.html", item=item, form=form, publishing=True,
                           files=service.files_to_publish(db.session, item))


@bp.route("/items/<uuid:item_id>/unpublish-publicly", methods=["GET", "POST"])
def unpublish(item_id: uuid.UUID) -> Any:
    item = get_visible_item(db.session, current_user, item_id)
    if not access.can_unpublish_publicly(current_user, item, service.is_public(db.session, item)):
        raise Forbidden("Only the originating state's point of contact takes an item off the public side.")
    form = ButtonForm()
    if form.validate_on_submit():
        service.unpublish_publicly(db.session, current_user, item)
        flash("Taken off the public side.", "success")
        return redirect(_item_page(item), 303)
    return render_template("public/confirm_publish.html", item=item, form=form, publishing=False, files=0)
