"""Template helpers for the site's look: Bootstrap markup for Django forms."""

from __future__ import annotations

from django import forms, template

register = template.Library()

_CHECKS = (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)


def _css_class(widget: forms.Widget) -> str:
    if isinstance(widget, _CHECKS):
        return "form-check-input"
    if isinstance(widget, (forms.Select, forms.SelectMultiple)):
        return "form-select"
    return "form-control"


@register.inclusion_tag("includes/field.html")
def field(bound_field, **extra):
    """Render one field with its label, help text and errors."""
    widget = bound_field.field.widget
    classes = [_css_class(widget)]
    if bound_field.errors:
        classes.append("is-invalid")
    attrs = {"class": " ".join(classes)}
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
    attrs.update(extra)
    return {
        "bf": bound_field,
        "widget_html": bound_field.as_widget(attrs=attrs),
        "is_check": isinstance(widget, forms.CheckboxInput),
    }


@register.inclusion_tag("includes/form_errors.html")
def form_errors(form):
    """Errors that belong to the whole form, not one field."""
    return {"errors": form.non_field_errors()}
