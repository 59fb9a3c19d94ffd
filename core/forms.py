"""Form plumbing shared by the apps' pages."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(
    form: forms.BaseForm, exc: ValidationError, fields: dict[str, str] | None = None
) -> None:
    """Show a service's ValidationError on a form: on the field it names where the form has
    one (`fields` maps the service's names to the form's), else above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.error_dict.items():
        target = (fields or {}).get(name, name)
        for error in errors:
            form.add_error(target if target in form.fields else None, error.messages)
