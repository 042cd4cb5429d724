"""Forms for a user's own account."""
from __future__ import annotations

from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from portal.forms import PortalForm


class ProfileForm(PortalForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    position = StringField("Position", validators=[Optional(), Length(max=200)],
                           description="For example: Head of export licensing.")


class ChangePasswordForm(PortalForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=256)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(max=256)],
        description="At least 12 characters. Every other session of yours will be signed out.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField("Confirm new password",
                            validators=[DataRequired(),
                                        EqualTo("new_password", message="The two passwords are different.")],
                            render_kw={"autocomplete": "new-password"})


class ApiTokenForm(PortalForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)],
                       description="What will use it, e.g. “National licensing system import”.")
    days = IntegerField("Valid for (days)", default=90, validators=[DataRequired(), NumberRange(min=1, max=365)])
