"""Form pieces shared by every domain: the base class every form derives from, shared fields
and forms, and how a service's refusal reaches a form."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from flask import flash, g, has_request_context, request
from flask_wtf import FlaskForm
from wtforms import Field, Form, SelectMultipleField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from portal import validation
from portal.errors import ValidationFailed

MAX_REASON = 4000


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
    """A Flask-WTF form whose every field passes `text_rules`, so a new field inherits them.

    On the page shown again after signing in, it is filled with what was typed before the
    session ended (portal.guard.restore_saved_form), whatever the route passes as data."""

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if has_request_context() and request.method == "GET" and g.get("restored_form") is not None:
                return g.restored_form
            return super().wrap_formdata(form, formdata)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name in self._fields:
            extra.setdefault(name, []).append(text_rules)
        return bool(super().validate(extra_validators=extra))


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated)."""
    return [SelectChoice(value, label) for value, label in pairs]


class Marked:
    """Marks a field "(optional)" on the page (the `field` macro reads the flag); checks nothing.
    WTForms' own `Optional` sets the same flag but also stops the other validators."""

    field_flags: ClassVar[dict[str, bool]] = {"optional": True}

    def __call__(self, form: Form, field: Field) -> None:
        return None


OPTIONAL = Marked()


class BlankForNow(Optional):
    """Lets a field be left empty in a draft (no "Not a valid date" for an empty date) without
    marking it "(optional)": the service requires it when the draft is submitted or published."""

    def __init__(self) -> None:
        super().__init__()
        self.field_flags: dict[str, bool] = {}


class CheckboxesField(SelectMultipleField):
    """A group of checkboxes: easier to use and to reach by keyboard than a multi-select."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ButtonForm(PortalForm):
    """A button that changes something: carries only the CSRF token."""


class ReasonForm(PortalForm):
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
