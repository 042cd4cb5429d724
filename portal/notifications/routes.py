"""In-portal notifications, alert preferences, and unsubscribe links from e-mails."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select, update

from portal import access
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.forms import apply_errors
from portal.models.base import utcnow
from portal.models.notification import AlertTopic, DeliveryMode, Notification
from portal.models.user import User
from portal.notifications import prefs
from portal.notifications.forms import PreferencesForm
from portal.pagination import paginate
from portal.users.forms import ActionForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        access.notifications_filter(user), Notification.read_at.is_(None))) or 0


@bp.app_context_processor
def header_counts() -> dict[str, Any]:
    if not has_request_context() or not current_user.is_authenticated or access.is_admin(current_user):
        return {"unread_notifications": None}
    return {"unread_notifications": unread_count(current_user)}


@bp.get("/")
def index() -> Any:
    query = select(Notification).where(access.notifications_filter(current_user)).order_by(Notification.created_at.desc())
    return render_template("notifications/index.html", page=paginate(db.session, query, request.args),
                           action_form=ActionForm())


@bp.post("/<uuid:notification_id>/read")
def mark_read(notification_id: uuid.UUID) -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    note = db.session.scalar(select(Notification).where(Notification.id == notification_id,
                                                        access.notifications_filter(current_user)))
    if note is None:
        abort(404)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    return redirect(note.url if request.form.get("open") else url_for("notifications.index"))


@bp.post("/read-all")
def mark_all_read() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
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
        try:
            for topic in AlertTopic:
                threat = topic is AlertTopic.THREAT_NOTICES
                prefs.save_preference(db.session, current_user, topic, DeliveryMode(getattr(form, topic.value).data),
                                      min_severity=(form.min_severity.data or None) if threat else None,
                                      categories=list(form.categories.data or []) if threat else None)
        except ValidationFailed as error:
            apply_errors(form, error)
        else:
            flash("Your alert preferences are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form)


@bp.route("/unsubscribe/<topic>", methods=["GET", "POST"])
def unsubscribe(topic: str) -> Any:
    """The link at the foot of every alert e-mail (works once signed in)."""
    try:
        chosen = AlertTopic(topic)
    except ValueError:
        abort(404)
    form = ActionForm()
    if form.validate_on_submit():
        prefs.save_preference(db.session, current_user, chosen, DeliveryMode.OFF)
        flash(f"You will no longer get e-mails about {prefs.TOPIC_LABELS[chosen].lower()}. "
              "You still see them in the portal.", "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/unsubscribe.html", form=form, label=prefs.TOPIC_LABELS[chosen])
