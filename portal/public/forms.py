"""Forms of the public side and of the contact inbox."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
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


class ResponseForm(PortalForm):
    """A response to a public consultation: the contact form without a subject (the call is the subject)."""

    organisation_type = ContactForm.organisation_type
    organisation = ContactForm.organisation
    name = ContactForm.name
    email = ContactForm.email
    country = ContactForm.country
    message = TextAreaField("Your response", validators=[DataRequired(), Length(max=MAX_MESSAGE)],
                            description=f"Plain text, at most {MAX_MESSAGE} characters.")
    website = StringField("Leave this field empty")

    def payload(self) -> dict[str, Any]:
        return {name: self[name].data for name in ("organisation_type", "organisation", "name", "email",
                                                   "country", "message")}


class CallForm(PortalForm):
    """A state's public call for input."""

    title = StringField("Title", validators=[DataRequired(), Length(max=300)])
    description = TextAreaField("What you are asking, and of whom", validators=[DataRequired(), Length(max=20_000)],
                                description="Plain text. It is published on the public pages as you write it.")
    closes_on = DateField("Closing date", validators=[DataRequired()])
    to_secretariat = BooleanField("Send the responses to the secretariat's inbox too")

    def payload(self) -> dict[str, Any]:
        return {"title": self.title.data, "description": self.description.data,
                "closes_on": self.closes_on.data.isoformat() if self.closes_on.data else "",
                "to_secretariat": bool(self.to_secretariat.data)}


class SummaryForm(PortalForm):
    summary = TextAreaField("Summary of the responses", validators=[DataRequired(), Length(max=20_000)],
                            description="Plain text, published on the public page of the consultation. "
                                        "Do not name respondents unless they agreed.")
