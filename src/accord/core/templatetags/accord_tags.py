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


@register.filter
def may(user, perm_name: str) -> bool:
    """``{% if user|may:"import_contacts" %}``: show a link only to roles that may follow it."""
    from accord.core.permissions import Perm, has_perm

    return has_perm(user, Perm(perm_name))
