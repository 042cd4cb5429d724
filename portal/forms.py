"""Form pieces shared by every domain, and how a service's refusal reaches a form."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.errors import ValidationFailed

MAX_REASON = 4000


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes: easier to use and to reach by keyboard than a multi-select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ButtonForm(FlaskForm):
    """A button that changes something: carries only the CSRF token."""


class ReasonForm(FlaskForm):
    """An action that must say why (withdraw, revoke, cancel): the reason is shown to those told."""

    reason = TextAreaField("Reason", validators=[Length(max=MAX_REASON)])


def apply_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Show a service's field errors next to the fields; anything else as a page message."""
    unplaced = []
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if field is None:
            unplaced.append(message)
        else:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
    if unplaced or not error.fields:
        flash(" ".join(unplaced) or error.message, "error")
