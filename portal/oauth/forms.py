"""The SPOC's form to register a machine client."""
from __future__ import annotations

from wtforms import IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from portal.access import CLIENT_SCOPES
from portal.forms import CheckboxesField, PortalForm, choices
from portal.models.oauth import ClientAuthMethod


class ClientForm(PortalForm):
    name = StringField("Name of the system", validators=[DataRequired(), Length(max=100)],
                       description="For example: national licensing system (production).")
    scopes = CheckboxesField("What it may do", choices=choices(CLIENT_SCOPES.items()))
    auth_method = RadioField("How it authenticates", default=ClientAuthMethod.CLIENT_SECRET_BASIC.value,
                             choices=choices((m.value, m.label) for m in ClientAuthMethod))
    jwks = TextAreaField(
        "Public key (JWK or JWK Set)", validators=[Optional(), Length(max=20_000)],
        description="Only for signed assertions (private_key_jwt): the public key, never the private one.")
    days = IntegerField("Valid for (days)", default=90, validators=[DataRequired(), NumberRange(min=1, max=365)])

    def payload(self) -> dict[str, object]:
        """The shape register_client takes (the CLI and this page share its rules)."""
        return {"name": self.name.data or "", "scopes": list(self.scopes.data or []),
                "auth_method": self.auth_method.data, "jwks": self.jwks.data or "", "days": self.days.data}
