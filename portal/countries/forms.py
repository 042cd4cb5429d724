"""Forms for the country register. The service checks the fields (required, unique, the code's
shape), so the pages and any other caller get the same messages; the forms parse and carry."""
from __future__ import annotations

from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.forms import PortalForm
from portal.models.country import CountryStatus

STATUS_CHOICES = [(CountryStatus.SUBSCRIBING.value, "Subscribing state"),
                  (CountryStatus.OBSERVER.value, "Observer (capacity building)")]


class CountryForm(PortalForm):
    name = StringField("Name", validators=[Length(max=120)])
    status = SelectField("Status", choices=STATUS_CHOICES, validators=[DataRequired()])
    endorsed_on = DateField("Date of endorsement", validators=[Optional()],
                            description="Leave empty for observers or when not known.")


class NewCountryForm(CountryForm):
    code = StringField("ISO 3166 code", validators=[Length(max=10)],
                       description="Two letters, for example CR for Costa Rica.")
