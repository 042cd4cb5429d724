"""The administrator's form for a state's identity provider."""
from __future__ import annotations

from typing import Any

from wtforms import BooleanField, PasswordField, RadioField, StringField
from wtforms.validators import DataRequired, Length

from portal.forms import PortalForm, choices


class IdentityProviderForm(PortalForm):
    issuer = StringField("Issuer URL", validators=[DataRequired(), Length(max=300)],
                         description="Exactly as the provider names itself in its discovery document, "
                                     "for example https://login.ministry.example.")
    client_id = StringField("Client id", validators=[DataRequired(), Length(max=200)],
                            description="The id the provider registered for the portal.")
    secret_source = RadioField("Client secret", default="environment", choices=choices([
        ("environment", "From an environment variable of the portal's servers"),
        ("sealed", "Stored here, encrypted under the master key")]))
    secret_env = StringField("Environment variable", validators=[Length(max=100)],
                             description="Its name, for example SSO_DK_CLIENT_SECRET.")
    client_secret = PasswordField("Secret to store", validators=[Length(max=4096)],
                                  description="Leave empty to keep the stored secret.")
    email_claim = StringField("Claim carrying the e-mail address", default="email", validators=[Length(max=64)])
    mfa_amr = StringField("amr values accepted as multi-factor", validators=[Length(max=2000)],
                          description="Space-separated, e.g. mfa hwk. Empty: the portal's second step is always asked.")
    mfa_acr = StringField("acr values accepted as multi-factor", validators=[Length(max=2000)],
                          description="Space-separated. Empty: no acr value replaces the portal's second step.")
    enabled = BooleanField("People of this state may sign in through it", default=True)

    def payload(self) -> dict[str, Any]:
        """The service's payload (the same shape an API would send)."""
        return {"issuer": self.issuer.data or "", "client_id": self.client_id.data or "",
                "secret_source": self.secret_source.data or "", "secret_env": self.secret_env.data or "",
                "client_secret": self.client_secret.data or "", "email_claim": self.email_claim.data or "",
                "mfa_amr": self.mfa_amr.data or "", "mfa_acr": self.mfa_acr.data or "",
                "enabled": bool(self.enabled.data)}
