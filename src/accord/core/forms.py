"""Helpers shared by the pages' forms."""

from __future__ import annotations

from django import forms

from accord.core.errors import ValidationFailed


def add_service_errors(form: forms.Form, failure: ValidationFailed) -> None:
    """Show a service's refusal on the form, next to the field it names."""
    for field, message in failure.errors.items():
        form.add_error(field if field in form.fields else None, message)
