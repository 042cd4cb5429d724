"""Alert preference forms."""
from __future__ import annotations

from wtforms import RadioField, SelectField

from portal.forms import CheckboxesField, PortalForm
from portal.models.notification import AlertTopic, DeliveryMode
from portal.kinds import SEVERITIES, THREAT_CATEGORIES

MODE_CHOICES = [(DeliveryMode.IMMEDIATE.value, "At once"), (DeliveryMode.DIGEST.value, "In a daily digest"),
                (DeliveryMode.OFF.value, "Not by e-mail")]


# What a topic's choice covers, where the label alone does not say.
TOPIC_DESCRIPTIONS = {
    AlertTopic.MEETINGS: ("Reminders before registration closes and before a meeting. Invitations, updates and "
                          "cancellations always reach points of contact, who must act on them."),
    AlertTopic.CONSULTATIONS: ("Consultations of your state, and reminders before their deadlines. Consultations "
                               "are not in the daily digest: choosing it sends them at once."),
}


class KeepIfAbsentRadioField(RadioField):
    """A topic's delivery choice. A topic added after clients learnt the form: when it is not sent
    at all, the current choice is kept (the route reads None as "unchanged"); a value sent must
    be a valid one."""

    def pre_validate(self, form: PortalForm) -> None:
        if self.data is None:
            return
        super().pre_validate(form)


class PreferencesForm(PortalForm):
    """One delivery choice per alert topic (a field named after the topic's value), and the
    severity and technology filters of threat notices."""

    min_severity = SelectField("At once only from this severity (lower ones come in the digest)",
                               choices=[("", "Any severity"), *SEVERITIES.items()])
    categories = CheckboxesField("At once only for these technologies (none chosen: all)",
                                 choices=list(THREAT_CATEGORIES.items()))


for _topic in AlertTopic:  # a new topic (a new item kind's) gets its field here, not by hand
    setattr(PreferencesForm, _topic.value, KeepIfAbsentRadioField(
        _topic.label, choices=MODE_CHOICES, description=TOPIC_DESCRIPTIONS.get(_topic)))
