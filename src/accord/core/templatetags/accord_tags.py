"""Template helpers used across the pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def querystring_with(context, name, value):
    """The current query string with one parameter replaced (for pagination and sort links)."""
    params = context["request"].GET.copy()
    params[name] = value
    return params.urlencode()
