"""The card duplicate detection adds to the contact page (accord.crm.panels)."""

from __future__ import annotations

from django.db.models import Q

from accord.core.permissions import Perm, has_perm
from accord.dedup.models import Merge, RecordKind, Suggestion, SuggestionStatus


def contact_panel_context(contact, user) -> dict | None:
    """Possible duplicates of this contact and the records merged into it (two queries)."""
    if not has_perm(user, Perm.MERGE_RECORDS):
        return None
    suggestions = list(
        Suggestion.objects.filter(
            Q(left_id=contact.pk) | Q(right_id=contact.pk), kind=RecordKind.CONTACT, status=SuggestionStatus.PENDING
        ).order_by("-probability")[:5]
    )
    merges = list(Merge.objects.filter(kind=RecordKind.CONTACT, survivor_id=contact.pk, undone_at__isnull=True).order_by("-merged_at")[:5])
    if not suggestions and not merges:
        return None
    return {"suggestions": suggestions, "merges": merges}
