"""Forms for the country register."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm
from portal.models.country import CountryStatus

STATUS_CHOICES = [(CountryStatus.SUBSCRIBING.value, "Subscribing state"),
                  (CountryStatus.OBSERVER.value, "Observer (capacity building)")]


class CountryForm(PortalForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[DataRequired()])
    endorsed_on = DateField("Date of endorsement", validators=[Optional()],
                            description="Leave empty for observers or when not known.")


class NewCountryForm(CountryForm):
    code = StringField("ISO 3166 code", validators=[DataRequired(), Length(min=2, max=2)],
                       description="Two letters, for example CR for Costa Rica.")
