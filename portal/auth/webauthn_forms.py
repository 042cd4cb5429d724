"""Forms of the WebAuthn pages: the key step of sign-in, registering a key, a state's setting."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.webauthn import NAME_MAX
from portal.forms import PortalForm

# An authenticator's answer, as the page's script posts it: JSON with base64url fields (a few KiB).
CREDENTIAL_MAX = 16_384


class KeyAssertionForm(PortalForm):
    credential = HiddenField(validators=[DataRequired(), Length(max=CREDENTIAL_MAX)])


class KeyRegistrationForm(PortalForm):
    name = StringField("Name of the key", validators=[DataRequired(), Length(max=NAME_MAX)],
                       description="So you can tell your keys apart, e.g. “Blue USB key” or “Work laptop”.")
    credential = HiddenField(validators=[Length(max=CREDENTIAL_MAX)])


class WebAuthnRequirementForm(PortalForm):
    required = BooleanField("Users of this state who have a security key or passkey must sign in with it "
                            "(their authenticator-app codes stop working)")
