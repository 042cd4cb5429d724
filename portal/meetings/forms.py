"""Forms for meetings. Required fields and rules are checked by the services, so the API and
the CLI get the same messages; the forms only parse and carry them."""
from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField, DateField, DateTimeLocalField, EmailField, RadioField, SelectField, StringField, TextAreaField,
)
from wtforms.validators import Length, Optional

from portal.forms import CheckboxesField, PortalForm, choices
from portal.meetings import times
from portal.models.meeting import ActionKind, ActionStatus, Attendance, MeetingKind

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
DEFAULT_ZONE = "Europe/Brussels"




def _when(label: str, description: str | None = None) -> DateTimeLocalField:
    return DateTimeLocalField(label, format=DATETIME_FORMATS, validators=[Optional()], description=description,
                              invalid_value_message="Enter a date and time, e.g. 2026-03-10 09:30.")


class MeetingForm(PortalForm):
    kind = SelectField("Kind of meeting", choices=choices((k.value, k.label) for k in MeetingKind),
                       default=MeetingKind.PLENARY.value)
    title = StringField("Title", validators=[Length(max=300)])
    description = TextAreaField("Description", validators=[Length(max=20_000)],
                                description="Purpose and practical information. Markdown: **bold**, lists, links.")
    timezone = SelectField("Time zone", default=DEFAULT_ZONE,
                           description="Where the meeting takes place. Times below are in this zone.")
    starts_at = _when("Starts")
    ends_at = _when("Ends")
    registration_deadline = _when("Registration deadline", "Points of contact register their delegations until then.")
    venue = StringField("Venue", validators=[Length(max=300)],
                        description="Building, room and city. Leave empty for an online meeting.")
    online_url = StringField("Online meeting link", validators=[Length(max=500)],
                             description="An https:// address. Leave empty for an in-person meeting.",
                             render_kw={"inputmode": "url", "autocomplete": "off"})
    invite_all_subscribing = BooleanField("All subscribing states", default=True)
    states = CheckboxesField("Or these subscribing states", choices=[], validate_choice=False,
                             description="Used when “All subscribing states” is not ticked.")
    invite_observers = BooleanField("Observer states")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = choices([("UTC", "UTC")] + [(z, z.replace("_", " ")) for z in times.zone_names()])

    def payload(self) -> dict[str, Any]:
        return {"kind": self.kind.data, "title": self.title.data, "description": self.description.data,
                "timezone": self.timezone.data, "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "registration_deadline": self.registration_deadline.data, "venue": self.venue.data,
                "online_url": self.online_url.data, "invite_all_subscribing": self.invite_all_subscribing.data,
                "invite_observers": self.invite_observers.data, "states": list(self.states.data or [])}


class AgendaItemForm(PortalForm):
    title = StringField("Title", validators=[Length(max=300)])
    starts_at = _when("Starts", "Optional. In the meeting's time zone.")
    ends_at = _when("Ends")
    lead_state = SelectField("Lead state", choices=[], validate_choice=False)
    description = TextAreaField("Description", validators=[Length(max=10_000)],
                                description="Markdown: **bold**, lists, links.")
    items = TextAreaField("Linked documents and items",
                          description="Paste the portal addresses (or ids) of published items shared with the "
                                      "secretariat, one per line. Each state sees only the links it may open.")

    def payload(self) -> dict[str, Any]:
        return {"title": self.title.data, "starts_at": self.starts_at.data, "ends_at": self.ends_at.data,
                "lead_state": self.lead_state.data, "description": self.description.data, "items": self.items.data}


class DelegateForm(PortalForm):
    name = StringField("Full name", validators=[Length(max=200)], render_kw={"autocomplete": "off"})
    position = StringField("Position", validators=[Length(max=200)],
                           description="For example: Director, export control.")
    email = EmailField("E-mail address", validators=[Length(max=254)], render_kw={"autocomplete": "off"})
    attendance = RadioField("Attends", choices=choices((a.value, a.label) for a in Attendance), validate_choice=False)
    is_head = BooleanField("Head of delegation", description="One per state.")

    def payload(self) -> dict[str, Any]:
        return {"name": self.name.data, "position": self.position.data, "email": self.email.data,
                "attendance": self.attendance.data, "is_head": self.is_head.data}


class MinutesForm(PortalForm):
    body = TextAreaField("Minutes", validators=[Length(max=200_000)],
                         description="Markdown: one section per agenda item (## headings), **bold**, lists.")


class CommentForm(PortalForm):
    body = TextAreaField("Your comment", validators=[Length(max=10_000)],
                         description="Seen by the secretariat and your own state only.")


class ActionItemForm(PortalForm):
    kind = RadioField("Type", choices=choices([(ActionKind.ACTION.value, "Action"),
                                               (ActionKind.DECISION.value, "Decision")]),
                      default=ActionKind.ACTION.value, validate_choice=False)
    text = TextAreaField("Text", validators=[Length(max=4000)])
    owner_state = SelectField("Owner", choices=[], validate_choice=False,
                              description="Who carries the action out. Decisions need no owner.")
    due_date = DateField("Due date", validators=[Optional()], description="Actions only.")
    status = SelectField("Status", choices=choices((s.value, s.value.capitalize()) for s in ActionStatus),
                         default=ActionStatus.OPEN.value, validate_choice=False)

    def payload(self) -> dict[str, Any]:
        return {"kind": self.kind.data, "text": self.text.data, "owner_state": self.owner_state.data,
                "due_date": self.due_date.data, "status": self.status.data}
