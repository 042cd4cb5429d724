"""Forms of the public side and of the contact inbox."""
from __future__ import annotations

from typing import Any

from wtforms import EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import PortalForm, choices
from portal.models.public import OrganisationType
from portal.public.contact import MAX_LINE, MAX_MESSAGE, MAX_SUBJECT


class ContactForm(PortalForm):
    """"Contact the Initiative": plain text only, no attachments. `website` is the honeypot:
    hidden from people (and from screen readers), filled in only by robots."""

    organisation_type = SelectField("Type of organisation", choices=choices(
        [("", "Choose one")] + [(t.value, t.label) for t in OrganisationType]), validators=[DataRequired()])
    organisation = StringField("Organisation", validators=[DataRequired(), Length(max=MAX_LINE)])
    name = StringField("Your name", validators=[DataRequired(), Length(max=MAX_LINE)])
    email = EmailField("Your e-mail address", validators=[DataRequired(), Length(max=254)],
                       description="We send you a link to confirm it; your message reaches us only then.")
    country = StringField("Country", validators=[DataRequired(), Length(max=120)])
    subject = StringField("Subject", validators=[DataRequired(), Length(max=MAX_SUBJECT)])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=MAX_MESSAGE)],
                            description=f"Plain text, at most {MAX_MESSAGE} characters. Please do not send "
                                        "classified or personal information about others.")
    website = StringField("Leave this field empty")

    def payload(self) -> dict[str, Any]:
        return {name: self[name].data for name in ("organisation_type", "organisation", "name", "email",
                                                   "country", "subject", "message")}


class ForwardForm(PortalForm):
    country = SelectField("Forward to the point of contact of", validators=[DataRequired()])
