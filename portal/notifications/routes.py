"""In-portal notifications, alert preferences, and unsubscribe links from e-mails."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, flash, g, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.forms import ButtonForm, apply_errors
from portal.models.notification import AlertTopic, DeliveryMode
from portal.notifications import prefs, service
from portal.notifications.forms import PreferencesForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def header_counts() -> dict[str, Any]:
    if not has_request_context() or not current_user.is_authenticated or access.is_admin(current_user):
        return {"unread_notifications": None}
    g.unread_notifications = service.unread_count(db.session, current_user)
    return {"unread_notifications": g.unread_notifications}


@bp.after_app_request
def read_on_arrival(response: Response) -> Response:
    """A bell entry is read when its page is shown, however it was reached (a new tab included);
    a page refused (404) reads nothing."""
    if (request.method == "GET" and response.status_code == 200 and request.endpoint not in (None, "static")
            and not request.path.startswith("/api/") and current_user.is_authenticated
            and not access.is_admin(current_user) and not access.is_machine(current_user)
            and g.get("unread_notifications") != 0):  # the page's own bell count: nothing to read
        service.mark_arrived(db.session, current_user, request.path)
    return response


@bp.get("/")
def index() -> Any:
    page = service.page_for(db.session, current_user, request.args)
    return render_template("notifications/index.html", page=page, labels=service.labels_for(db.session, page.items),
                           action_form=ButtonForm())


@bp.post("/<uuid:notification_id>/read")
def mark_read(notification_id: uuid.UUID) -> Any:
    if not ButtonForm().validate_on_submit():
        abort(400)
    note = service.mark_read(db.session, current_user, notification_id)
    return redirect(note.url if request.form.get("open") else url_for("notifications.index"))


@bp.post("/read-all")
def mark_all_read() -> Any:
    if not ButtonForm().validate_on_submit():
        abort(400)
    service.mark_all_read(db.session, current_user)
    flash("All notifications are marked as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> Any:
    current = prefs.preferences(db.session, current_user)
    form = PreferencesForm(data={
        **{t.value: current[t].mode.value for t in AlertTopic},
        "min_severity": current[AlertTopic.THREAT_NOTICES].min_severity or "",
        "categories": current[AlertTopic.THREAT_NOTICES].categories,
    } if request.method == "GET" else None)
    if form.validate_on_submit():
        sent = {topic: getattr(form, topic.value).data for topic in AlertTopic}
        choices = {topic: prefs.Preference(DeliveryMode(value) if value is not None else current[topic].mode)
                   for topic, value in sent.items()}
        choices[AlertTopic.THREAT_NOTICES].min_severity = form.min_severity.data or None
        choices[AlertTopic.THREAT_NOTICES].categories = list(form.categories.data or [])
        try:
            prefs.save_preferences(db.session, current_user, choices)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Your alert preferences are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form,
                           other_topics=[t for t in AlertTopic if t is not AlertTopic.THREAT_NOTICES])


@bp.route("/unsubscribe/<topic>", methods=["GET", "POST"])
def unsubscribe(topic: str) -> Any:
    """The link at the foot of every alert e-mail (works once signed in)."""
    try:
        chosen = AlertTopic(topic)
    except ValueError:
        raise NotFound() from None
    form = ButtonForm()
    if form.validate_on_submit():
        prefs.save_preference(db.session, current_user, chosen, DeliveryMode.OFF)
        flash(f"You will no longer get e-mails about {chosen.label.lower()}. "
              "You still see them in the portal.", "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/unsubscribe.html", form=form, label=chosen.label)
