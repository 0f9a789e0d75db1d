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
    # Scoring (issue 3): drafting models is shared; approval is per side, checked by team.
    MANAGE_SCORING = "manage_scoring"
    APPROVE_SCORING = "approve_scoring"
    # Duplicates (issue 5).
    MERGE_RECORDS = "merge_records"
    # Handoff and SLA (issue 4).
    MANAGE_SLA = "manage_sla"
    WORK_HANDOFFS = "work_handoffs"
    VIEW_SLA_BOARD = "view_sla_board"
    # Reports (issue 6): everyone reads them; targets are set by managers.
    VIEW_REPORTS = "view_reports"
    MANAGE_KPI_TARGETS = "manage_kpi_targets"
    # Outreach (issue 7).
    MANAGE_SEGMENTS = "manage_segments"
    SEND_CAMPAIGNS = "send_campaigns"
    MANAGE_CONSENT = "manage_consent"
    MANAGE_CONTACT_POLICY = "manage_contact_policy"
    # Common ground (issue 8).
    EDIT_KNOWLEDGE = "edit_knowledge"
    MANAGE_GOALS = "manage_goals"
    RUN_MEETINGS = "run_meetings"
    # Background jobs and integrations.
    MANAGE_WEBHOOKS = "manage_webhooks"


_EVERYONE = {
    Perm.VIEW_RECORDS,
    Perm.EDIT_CONTACTS,
    Perm.CHANGE_STAGE,
    Perm.LOG_TOUCHPOINTS,
    Perm.MANAGE_SCORING,
    Perm.APPROVE_SCORING,
    Perm.MERGE_RECORDS,
    Perm.VIEW_REPORTS,
    Perm.MANAGE_SEGMENTS,
    Perm.EDIT_KNOWLEDGE,
    Perm.RUN_MEETINGS,
}

ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.MARKETING: frozenset(
        _EVERYONE
        | {
            Perm.CAPTURE_LEADS,
            Perm.IMPORT_CONTACTS,
            Perm.EXPORT_CONTACTS,
            Perm.MANAGE_CAMPAIGNS,
            Perm.SEND_CAMPAIGNS,
            Perm.MANAGE_CONSENT,
        }
    ),
    Role.SALES: frozenset(_EVERYONE | {Perm.CAPTURE_LEADS, Perm.MANAGE_OPPORTUNITIES, Perm.WORK_HANDOFFS}),
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
