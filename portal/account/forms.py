"""Forms for a user's own account."""
from __future__ import annotations

from wtforms import IntegerField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from portal.forms import PortalForm


class ProfileForm(PortalForm):
    name = StringField("Full name", validators=[DataRequired("Enter your full name."), Length(max=200)])
    position = StringField("Position", validators=[Optional(), Length(max=200)],  # Optional: marked "(optional)"
                           description="For example: Head of export licensing.")


class ChangePasswordForm(PortalForm):
    current_password = PasswordField("Current password",
                                     validators=[DataRequired("Enter your current password."), Length(max=256)],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(
        "New password", validators=[DataRequired("Enter a new password."), Length(max=256)],
        description="At least 12 characters. Every other session of yours will be signed out.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField("Confirm new password",
                            validators=[DataRequired("Enter the new password again to confirm it."),
                                        EqualTo("new_password", message="The two passwords are different.")],
                            render_kw={"autocomplete": "new-password"})


class ApiTokenForm(PortalForm):
    name = StringField("Token name", validators=[DataRequired("Enter a name for the token."), Length(max=100)],
                       description="What will use it, e.g. “National licensing system import”.")
    days = IntegerField("Valid for (days)", default=90, validators=[
                        DataRequired("Enter for how many days, from 1 to 365."),
                                    NumberRange(min=1, max=365, message="Enter a number of days from 1 to 365.")])
