"""The screening page's form: one party typed in, or a CSV file of parties."""
from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from portal.screening.matcher import DEFAULT_THRESHOLD
from portal.country_names import country_names
from portal.screening.schema import split_aliases


class ScreenForm(FlaskForm):
    name = StringField("Name", validators=[Length(max=300)])
    aliases = StringField("Aliases", validators=[Length(max=4000)],
                          description="Other names or spellings, separated by semicolons (;).")
    country = SelectField("Country", validate_choice=False)  # the service checks the code
    address = TextAreaField("Address", validators=[Length(max=1000)])
    file = FileField("Or upload a CSV file",
                     description="UTF-8, header name,aliases,country,address; aliases separated by semicolons; "
                                 "two-letter country codes; at most 1,000 rows and 1 MiB.")
    threshold = DecimalField("Threshold", places=2, default=DEFAULT_THRESHOLD,
                             validators=[Optional(), NumberRange(min=0, max=1)],
                             description="Lowest score shown, from 0 to 1.")
    include_inactive = BooleanField("Include revoked and lapsed denials")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.country.choices = [("", "(not known)"), *country_names().items()]

    def options(self) -> dict[str, Any]:
        """threshold and include_inactive in the payload's shape."""
        threshold = float(self.threshold.data) if self.threshold.data is not None else None
        return {"threshold": threshold, "include_inactive": bool(self.include_inactive.data)}

    def payload(self) -> dict[str, Any]:
        """The typed party in the API's payload shape."""
        return {"parties": [{"name": self.name.data or "", "aliases": split_aliases(self.aliases.data or ""),
                             "country": self.country.data or "", "address": self.address.data or ""}],
                **self.options()}
