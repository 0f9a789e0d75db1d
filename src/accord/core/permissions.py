"""What each role may do. Every view and endpoint asks here; nothing else decides."""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied

from accord.core.models import Role


class Perm(StrEnum):
    VIEW_RECORDS = "view_records"
    EDIT_CONTACTS = "edit_contacts"
    CHANGE_STAGE = "change_stage"
    CAPTURE_LEADS = "capture_leads"
    IMPORT_CONTACTS = "import_contacts"
    EXPORT_CONTACTS = "export_contacts"
    MANAGE_CAMPAIGNS = "manage_campaigns"
    MANAGE_OPPORTUNITIES = "manage_opportunities"
    LOG_TOUCHPOINTS = "log_touchpoints"
    MANAGE_USERS = "manage_users"


_EVERYONE = {Perm.VIEW_RECORDS, Perm.EDIT_CONTACTS, Perm.CHANGE_STAGE, Perm.LOG_TOUCHPOINTS}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.MARKETING: frozenset(
        _EVERYONE | {Perm.CAPTURE_LEADS, Perm.IMPORT_CONTACTS, Perm.EXPORT_CONTACTS, Perm.MANAGE_CAMPAIGNS}
    ),
    Role.SALES: frozenset(_EVERYONE | {Perm.CAPTURE_LEADS, Perm.MANAGE_OPPORTUNITIES}),
    Role.MANAGER: frozenset(set(Perm) - {Perm.MANAGE_USERS}),
    Role.ADMIN: frozenset(Perm),
}


def has_perm(user, perm: Perm) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())


def require_perm(user, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(f"Your role may not {perm.value.replace('_', ' ')}.")
