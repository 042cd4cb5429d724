"""Helpers shared by every form."""
from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from portal.errors import ValidationFailed


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
