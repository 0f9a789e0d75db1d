"""Which channel a touchpoint came through when no campaign says so."""

from accord.campaigns.models import Channel, TouchpointKind

_MEDIUM_CHANNELS = {
    "cpc": Channel.PAID_SEARCH,
    "ppc": Channel.PAID_SEARCH,
    "paid": Channel.PAID_SEARCH,
    "paidsearch": Channel.PAID_SEARCH,
    "paid_search": Channel.PAID_SEARCH,
    "sem": Channel.PAID_SEARCH,
    "paid_social": Channel.PAID_SOCIAL,
    "paidsocial": Channel.PAID_SOCIAL,
    "display": Channel.PAID_SOCIAL,
    "email": Channel.EMAIL,
    "newsletter": Channel.EMAIL,
    "social": Channel.SOCIAL,
    "organic": Channel.ORGANIC_SEARCH,
    "referral": Channel.REFERRAL,
    "webinar": Channel.WEBINAR,
    "event": Channel.EVENT,
    "partner": Channel.PARTNER,
    "affiliate": Channel.PARTNER,
    "content": Channel.CONTENT,
}
_SALES_KINDS = {TouchpointKind.CALL, TouchpointKind.MEETING, TouchpointKind.SALES_EMAIL}
_WEB_KINDS = {TouchpointKind.FORM_SUBMISSION, TouchpointKind.PAGE_VISIT}


def infer_channel(*, kind: str, utm_medium: str, utm_source: str) -> str:
    if utm_medium:
        return _MEDIUM_CHANNELS.get(utm_medium.replace("-", "_"), Channel.OTHER)
    if utm_source:
        return Channel.OTHER
    if kind in _SALES_KINDS:
        return Channel.SALES
    if kind in _WEB_KINDS:
        return Channel.DIRECT
    return ""
