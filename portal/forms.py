"""Helpers shared by every form, and the base class every form derives from."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask import flash
from flask_wtf import FlaskForm
from wtforms import Field, Form, TextAreaField
from wtforms.validators import ValidationError

from portal import validation
from portal.errors import ValidationFailed


def text_rules(form: Form, field: Field) -> None:
    """The shared text rule (portal.validation) for any field that carries text: a textarea may
    hold line breaks and tabs; every other field (inputs, hidden fields, select values, checkbox
    values) is one line. Lone surrogates and other control characters are refused everywhere."""
    multiline = isinstance(field, TextAreaField)
    values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
    for value in values:
        if not isinstance(value, str):
            continue
        problem = validation.text_problem(validation.normalise_newlines(value) if multiline else value,
                                          multiline=multiline)
        if problem:
            raise ValidationError(problem)


class PortalForm(FlaskForm):
    """A Flask-WTF form whose every field passes `text_rules`, so a new field inherits them."""

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(text_rules)
        return bool(super().validate(extra_validators=extra))


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
