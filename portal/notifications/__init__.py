"""Alerts, digests, in-portal notifications and the e-mail outbox."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """List every kind of queued message once, explicitly (no registration by import side effect)."""
    from portal.consultations import notify as consultation_mail
    from portal.meetings import notify as meeting_mail
    from portal.notifications import alerts, outbox
    from portal.sharing import review

    outbox.init_app(app, outbox.Registry(
        renderers={"item_alert": alerts.render_item_alert, "digest": alerts.render_digest,
                   review.RENDERER: review.render_review_reminder,
                   "consultation_alert": consultation_mail.render_consultation_alert,
                   "grant_notice": consultation_mail.render_grant_notice},
        visibility_checks={"item": alerts.can_see_item, meeting_mail.SUBJECT_TYPE: meeting_mail.can_still_see,
                           consultation_mail.SUBJECT_TYPE: consultation_mail.can_still_see},
    ))
