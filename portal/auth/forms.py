"""Sign-in, second-factor, password-reset and invitation forms."""
from __future__ import annotations

from portal.forms import PortalForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp


class LoginForm(PortalForm):
    email = EmailField("E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=256)])


class CodeForm(PortalForm):
    code = StringField(
        "6-digit code from your authenticator app",
        validators=[DataRequired("Enter the 6-digit code from your authenticator app."),
                    Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message="Enter the 6 digits your app shows.")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 7},
    )


class ForgotPasswordForm(PortalForm):
    email = EmailField("E-mail address", validators=[
        DataRequired("Enter your e-mail address."),
        Email("Enter an e-mail address in the right format, like name@example.org."), Length(max=254)])


class NewPasswordForm(PortalForm):
    password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=256)],
        description="At least 12 characters. A few unrelated words make a strong password that is easy to remember.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[DataRequired("Enter the new password again to confirm it."),
                    EqualTo("password", message="The two passwords are different.")],
        render_kw={"autocomplete": "new-password"},
    )
