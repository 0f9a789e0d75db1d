"""Extension points on the contact (360°) and account pages.

Apps above crm add a panel without touching crm's templates: in their AppConfig.ready()

    from accord.crm.panels import register_contact_panel
    register_contact_panel("scoring/_contact_panel.html", scoring_panel_context, order=20)

``context_function(contact, user)`` returns the panel's context (a dict), or None to show
nothing for this contact or user. It must not query per row of anything; one or two
queries per panel. The page includes ``template`` with ``panel`` set to that dict.
Lower ``order`` comes first; the built-in sections sit around order 50.
``register_home_panel(template, context_function(user), order)`` adds a card to the home page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PanelContext = Callable[[Any, Any], dict | None]


@dataclass(frozen=True)
class PanelSpec:
    template: str
    context_function: PanelContext
    order: int


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict


_CONTACT_PANELS: dict[str, PanelSpec] = {}
_ACCOUNT_PANELS: dict[str, PanelSpec] = {}
_HOME_PANELS: dict[str, PanelSpec] = {}


def register_contact_panel(template_name: str, context_function: PanelContext, order: int = 100) -> None:
    """Add (or replace, by template name) a panel on every contact's 360° page."""
    _CONTACT_PANELS[template_name] = PanelSpec(template_name, context_function, order)


def register_account_panel(template_name: str, context_function: PanelContext, order: int = 100) -> None:
    """Add (or replace, by template name) a panel on every account page."""
    _ACCOUNT_PANELS[template_name] = PanelSpec(template_name, context_function, order)


def register_home_panel(template_name: str, context_function: Callable[[Any], dict | None], order: int = 100) -> None:
    """Add a card to everyone's home page (e.g. "my handoffs due"); ``context_function(user)``."""
    _HOME_PANELS[template_name] = PanelSpec(template_name, lambda user, _: context_function(user), order)


def unregister_panel(template_name: str) -> None:
    _CONTACT_PANELS.pop(template_name, None)
    _ACCOUNT_PANELS.pop(template_name, None)
    _HOME_PANELS.pop(template_name, None)


def _build(specs: dict[str, PanelSpec], record, user) -> list[Panel]:
    panels = []
    for spec in sorted(specs.values(), key=lambda s: (s.order, s.template)):
        context = spec.context_function(record, user)
        if context is not None:
            panels.append(Panel(spec.template, context))
    return panels


def contact_panels(contact, user) -> list[Panel]:
    return _build(_CONTACT_PANELS, contact, user)


def account_panels(account, user) -> list[Panel]:
    return _build(_ACCOUNT_PANELS, account, user)


def home_panels(user) -> list[Panel]:
    return _build(_HOME_PANELS, user, user)
