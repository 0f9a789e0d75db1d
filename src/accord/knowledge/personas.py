"""The buyer personas articles are written for, and how a contact's title maps to them.

A small fixed vocabulary keeps the match explainable: the 360° page can say "suggested because
this contact is a finance buyer at the MQL stage".
"""

from __future__ import annotations

import re

PERSONAS = {
    "executive": "Owners, C-level and VPs",
    "manager": "Directors and managers",
    "finance": "Finance, CFO, controllers",
    "technical": "IT, engineering, security",
    "marketing": "Marketing",
    "sales": "Sales and revenue",
    "operations": "Operations",
    "procurement": "Procurement and purchasing",
}
_TITLE_WORDS = {
    "finance": r"financ|cfo|controller|account(ant|ing)|treasur",
    "technical": r"\bit\b|cio|cto|engineer|developer|devops|security|architect|technolog",
    "marketing": r"marketing|cmo|brand|growth|demand",
    "sales": r"sales|revenue|account exec|business development|\bbdr\b|\bsdr\b|cro\b",
    "operations": r"operations|\bcoo\b|\bops\b|supply",
    "procurement": r"procure|purchas|buyer|sourcing",
}
_SENIORITY = {"c_level": "executive", "vp": "executive", "owner": "executive", "director": "manager", "manager": "manager"}


def contact_personas(*, job_title: str, seniority: str) -> list[str]:
    title = (job_title or "").lower()
    found = [persona for persona, pattern in _TITLE_WORDS.items() if re.search(pattern, title)]
    if seniority in _SENIORITY:
        found.append(_SENIORITY[seniority])
    return sorted(set(found))
