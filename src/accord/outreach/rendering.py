"""Email templates: a closed set of placeholders, checked when the template is saved.

Placeholders look like ``{{ first_name }}``. Anything else in double braces is an error at
save time, never a blank in a customer's inbox. Values are HTML-escaped in the HTML part.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from accord.core.errors import ValidationFailed

PLACEHOLDERS = {
    "first_name": "the contact's first name (or 'there')",
    "last_name": "the contact's last name",
    "full_name": "first and last name",
    "company": "the account's name",
    "job_title": "the contact's job title",
    "interests": "the interests Sales recorded, comma-separated",
    "top_interest": "the first recorded interest (or 'our product')",
    "owner_name": "the contact's owner in Sales",
    "unsubscribe_url": "the one-click unsubscribe link",
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Tags whose end tag HTML lets authors leave out; everything else must be closed.
_OPTIONAL_END = {"p", "li", "td", "th", "tr", "thead", "tbody", "tfoot", "option", "dt", "dd"}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def template_check(*, subject: str, body_text: str, body_html: str) -> None:
    """Refuse unknown placeholders, stray braces and broken markup, naming the field."""
    errors: dict[str, str] = {}
    if not subject.strip():
        errors["subject"] = "is required"
    elif len(subject) > 200:
        errors["subject"] = "is longer than 200 characters"
    if not body_text.strip():
        errors["body_text"] = "is required (the plain-text part every client can read)"
    for field, value in (("subject", subject), ("body_text", body_text), ("body_html", body_html)):
        if field in errors:
            continue
        problem = _placeholder_problem(value)
        if problem:
            errors[field] = problem
    if body_html.strip() and "body_html" not in errors:
        problem = _markup_problem(body_html)
        if problem:
            errors["body_html"] = problem
    if errors:
        raise ValidationFailed(errors)


def _placeholder_problem(value: str) -> str:
    for match in _PLACEHOLDER.finditer(value):
        name = match.group(1)
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{{ {name[:40]} }}}}; use one of {', '.join(PLACEHOLDERS)}"
    leftover = _PLACEHOLDER.sub("", value)
    if "{{" in leftover or "}}" in leftover:
        return "has an unclosed placeholder: write {{ name }}"
    return ""


class _BalanceChecker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, int]] = []
        self.problem = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object") and not self.problem:
            self.problem = f"<{tag}> is not allowed in an email"
        if tag not in _VOID_TAGS:
            self.open.append((tag, self.getpos()[0]))

    def handle_startendtag(self, tag, attrs):
        if tag in ("script", "iframe", "object") and not self.problem:
            self.problem = f"<{tag}> is not allowed in an email"

    def handle_endtag(self, tag):
        if self.problem or tag in _VOID_TAGS:
            return
        while self.open and self.open[-1][0] != tag and self.open[-1][0] in _OPTIONAL_END:
            self.open.pop()
        if not self.open or self.open[-1][0] != tag:
            self.problem = f"</{tag}> on line {self.getpos()[0]} closes nothing that is open"
            return
        self.open.pop()


def _markup_problem(html: str) -> str:
    checker = _BalanceChecker()
    checker.feed(html)
    checker.close()
    if checker.problem:
        return checker.problem
    unclosed = [(tag, line) for tag, line in checker.open if tag not in _OPTIONAL_END]
    if unclosed:
        tag, line = unclosed[-1]
        return f"<{tag}> opened on line {line} is never closed"
    return ""


def placeholder_values(*, contact, interests: list[str], unsubscribe_url: str) -> dict[str, str]:
    account = contact.account
    owner = contact.owner
    return {
        "first_name": contact.first_name or "there",
        "last_name": contact.last_name,
        "full_name": contact.full_name or contact.email,
        "company": account.name if account else "",
        "job_title": contact.job_title,
        "interests": ", ".join(interests),
        "top_interest": interests[0] if interests else "our product",
        "owner_name": (owner.get_full_name() or owner.username) if owner else "",
        "unsubscribe_url": unsubscribe_url,
    }


def email_render(*, subject: str, body_text: str, body_html: str, values: dict[str, str]) -> RenderedEmail:
    def plain(match):
        return values.get(match.group(1), "")

    def html_value(match):
        return escape(values.get(match.group(1), ""))

    text = _PLACEHOLDER.sub(plain, body_text)
    html = _PLACEHOLDER.sub(html_value, body_html) if body_html.strip() else ""
    unsubscribe = values.get("unsubscribe_url", "")
    # Every marketing email carries a way out, whether or not the author placed one.
    if unsubscribe and unsubscribe not in text:
        text += f"\n\n--\nUnsubscribe: {unsubscribe}\n"
    if html and unsubscribe and escape(unsubscribe) not in html:
        html += f'<p style="font-size:12px;color:#666"><a href="{escape(unsubscribe)}">Unsubscribe</a></p>'
    return RenderedEmail(subject=" ".join(_PLACEHOLDER.sub(plain, subject).split()), text=text, html=html)
