from django import template

from accord.reports.data import reporting_currency

register = template.Library()


@register.filter
def money(value):
    if value is None or value == "":
        return "—"
    return f"{reporting_currency()} {float(value):,.0f}"


@register.filter
def num(value):
    if value is None or value == "":
        return "—"
    value = float(value)
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


@register.filter
def pct(value):
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.1f} %"


@register.filter
def hours(value):
    if value is None:
        return "—"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"
