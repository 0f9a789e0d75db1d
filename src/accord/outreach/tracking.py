"""Open and click tracking, when a send turns it on: signed links, never an open redirect."""

from __future__ import annotations

import re
from html import escape, unescape

from django.conf import settings
from django.core import signing
from django.urls import reverse

from accord.outreach.services import TRACKING_SALT

_HREF = re.compile(r'href="(https?://[^"]+)"')


def tracked_html(html: str, *, recipient_id: int) -> str:
    base = settings.SITE_URL.rstrip("/")

    def rewrite(match):
        target = unescape(match.group(1))
        if "/outreach/unsubscribe/" in target:
            return match.group(0)
        token = signing.dumps({"r": recipient_id, "u": target}, salt=TRACKING_SALT, compress=True)
        return f'href="{escape(base + reverse("outreach_track_click", args=[token]))}"'

    html = _HREF.sub(rewrite, html)
    pixel_token = signing.dumps({"r": recipient_id}, salt=TRACKING_SALT)
    pixel = base + reverse("outreach_track_open", args=[pixel_token])
    return html + f'<img src="{escape(pixel)}" width="1" height="1" alt="">'


def tracking_token_read(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=TRACKING_SALT)
    except signing.BadSignature:
        return None
