"""Consultation forms. They only parse and carry: the service validates their payload with the
API's rules (portal.consultations.schema), so both give the same messages."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from portal.country_names import country_names
from portal.consultations.schema import DEFAULT_DEADLINE_DAYS, MIN_DEADLINE_DAYS, OUTCOMES, POSITIONS


class OpenForm(FlaskForm):
    denial_id = HiddenField()
    applicant = StringField("Applicant (exporter)")
    consignee = StringField("Consignee")
    end_user = StringField("End user")
    item_description = TextAreaField("Items")
    control_entries = TextAreaField("Control-list entries",
                                    description="One per line: regime, then entry code. e.g. Wassenaar 5A001.j")
    # Chosen by name; the value is the ISO code the API and the service use.
    destination = SelectField("Destination", choices=[("", "Choose a country"), *country_names().items()],
                              validate_choice=False)
    end_use = TextAreaField("Stated end use")
    question = TextAreaField("Your question to the denying state")
    deadline = DateField("Answer wanted by", validators=[Optional()],
                         description=f"At least {MIN_DEADLINE_DAYS} days from today; "
                                     f"{DEFAULT_DEADLINE_DAYS} days if left empty.")

    def payload(self) -> dict[str, Any]:
        entries = []
        for line in (self.control_entries.data or "").splitlines():
            if line.strip():
                regime, _, code = line.strip().rpartition(" ")
                entries.append({"regime": regime.strip(), "code": code.strip()})
        return {"denial_id": self.denial_id.data, "applicant": self.applicant.data or "",
                "consignee": self.consignee.data or "", "end_user": self.end_user.data or "",
                "item_description": self.item_description.data or "", "control_entries": entries,
                "destination": (self.destination.data or "").upper(), "end_use": self.end_use.data or "",
                "question": self.question.data or "",
                "deadline": self.deadline.data.isoformat() if self.deadline.data else None}


class MessageForm(FlaskForm):
    body = TextAreaField("Message")

    def payload(self) -> dict[str, Any]:
        return {"body": self.body.data or ""}


class AnswerForm(FlaskForm):
    position = RadioField("Your position", choices=list(POSITIONS.items()), validate_choice=False)
    reasons = TextAreaField("Reasons")

    def payload(self) -> dict[str, Any]:
        return {"position": self.position.data or None, "reasons": self.reasons.data or ""}


class CloseForm(FlaskForm):
    outcome = RadioField("Your licensing decision", choices=list(OUTCOMES.items()), validate_choice=False)
    reasons = TextAreaField("Reasons", description="Required when you grant the licence: every state that received "
                                                   "the denial is told, with these reasons.")

    def payload(self) -> dict[str, Any]:
        return {"outcome": self.outcome.data or None, "reasons": self.reasons.data or ""}
