"""Alert preference forms."""
from __future__ import annotations

from wtforms import RadioField, SelectField

from portal.forms import CheckboxesField, PortalForm
from portal.models.notification import DeliveryMode
from portal.kinds import SEVERITIES, THREAT_CATEGORIES

MODE_CHOICES = [(DeliveryMode.IMMEDIATE.value, "At once"), (DeliveryMode.DIGEST.value, "In a daily digest"),
                (DeliveryMode.OFF.value, "Not by e-mail")]


class KeepIfAbsentRadioField(RadioField):
    """A topic added after clients learnt the form: when it is not sent at all, the current
    choice is kept (the route reads None as "unchanged"); a value sent must be a valid one."""

    def pre_validate(self, form: PortalForm) -> None:
        if self.data is None:
            return
        super().pre_validate(form)


class PreferencesForm(PortalForm):
    threat_notices = RadioField("Threat notices", choices=MODE_CHOICES)
    min_severity = SelectField("At once only from this severity (lower ones come in the digest)",
                               choices=[("", "Any severity")] + list(SEVERITIES.items()))
    categories = CheckboxesField("At once only for these technologies (none chosen: all)", choices=list(THREAT_CATEGORIES.items()))
    denials = RadioField("Licence-denial notifications", choices=MODE_CHOICES)
    documents = RadioField("Best-practice documents", choices=MODE_CHOICES)
    meetings = RadioField("Meetings", choices=MODE_CHOICES, description=(
        "Reminders before registration closes and before a meeting. Invitations, updates and cancellations "
        "always reach points of contact, who must act on them."))
    consultations = KeepIfAbsentRadioField("Consultations", choices=MODE_CHOICES, description=(
        "Consultations of your state, and reminders before their deadlines. Consultations are not in the "
        "daily digest: choosing it sends them at once."))
