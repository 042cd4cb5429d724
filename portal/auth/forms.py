"""Sign-in, second-factor, password-reset and invitation forms."""
from __future__ import annotations

from portal.forms import PortalForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp


class LoginForm(PortalForm):
    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])


class CodeForm(PortalForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="Enter the 6 digits your app shows.")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 7},
    )


class ForgotPasswordForm(PortalForm):
    email = EmailField("E-mail address", validators=[DataRequired(), Email(), Length(max=254)])


class NewPasswordForm(PortalForm):
    password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=256)],
        description="At least 12 characters. A few unrelated words make a strong password that is easy to remember.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired(), EqualTo("password", message="The two passwords are different.")],
        render_kw={"autocomplete": "new-password"},
    )
