"""Forms for account administration."""
from __future__ import annotations

from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.forms import PortalForm


class InviteForm(PortalForm):
    name = StringField("Full name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("E-mail address", validators=[DataRequired(), Email(), Length(max=254)])
    position = StringField("Position", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", validators=[DataRequired()])
    country = SelectField("State", validators=[Optional()],
                          description="Required for points of contact; leave empty for secretariat and administrators.")


class RoleForm(PortalForm):
    role = SelectField("New role", validators=[DataRequired()])
