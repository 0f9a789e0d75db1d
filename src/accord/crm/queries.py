"""Reads on the shared record. The contact filter here is the one the pages, the API and the
CSV export all use, so a list means the same thing wherever it is shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accord.campaigns.models import Touchpoint
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import Stage
from accord.crm.models import Contact

CONTACT_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "score": ("-score", "-id"),
    "name": ("last_name", "first_name", "id"),
    "latest_touch": ("-latest_touch_at", "-id"),
}


@dataclass(frozen=True)
class ContactFilter:
    q: str = ""
    stages: tuple[str, ...] = ()
    owner_id: int | None = None
    unowned: bool = False
    campaign_id: int | None = None
    account_id: int | None = None
    created_from: date | None = None
    created_to: date | None = None
    min_score: int | None = None
    grade: str = ""
    sort: str = "newest"

    def as_params(self) -> dict[str, str]:
        """The filter as query-string values (for links to the next page or the CSV export)."""
        params: dict[str, object] = {
            "q": self.q,
            "stage": ",".join(self.stages),
            "owner": "none" if self.unowned else self.owner_id,
            "campaign": self.campaign_id,
            "account": self.account_id,
            "created_from": self.created_from,
            "created_to": self.created_to,
            "min_score": self.min_score,
            "grade": self.grade,
            "sort": "" if self.sort == "newest" else self.sort,
        }
        return {key: str(value) for key, value in params.items() if value not in (None, "")}


def contact_filter_from_params(params: Mapping[str, object]) -> ContactFilter:
    """Read a filter from query parameters; ValidationFailed names each bad parameter."""
    errors: dict[str, str] = {}

    def single(name: str) -> str:
        value = params.get(name)
        if isinstance(value, (list, tuple)):
            value = value[-1] if value else ""
        return "" if value is None else str(value).strip()

    def whole(name: str, *, low: int = 1, high: int = 2**62) -> int | None:
        raw = single(name)
        if not raw:
            return None
        try:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
            return value
        except ValueError:
            errors[name] = f"'{raw[:40]}' is not a valid number here"
            return None

    def day(name: str) -> date | None:
        raw = single(name)
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            errors[name] = f"'{raw[:40]}' is not a date (use YYYY-MM-DD)"
            return None

    q = single("q")
    if len(q) > 200:
        errors["q"] = "is longer than 200 characters"
    raw_stages = params.getlist("stage") if hasattr(params, "getlist") else [single("stage")]
    stages = tuple(dict.fromkeys(s.strip().lower() for raw in raw_stages for s in str(raw).split(",") if s.strip()))
    bad = [s for s in stages if s not in Stage.values]
    if bad:
        errors["stage"] = f"'{bad[0][:40]}' is not a lifecycle stage; use one of {', '.join(Stage.values)}"
    owner_raw = single("owner")
    unowned = owner_raw.lower() == "none"
    owner_id = None if unowned else whole("owner")
    grade = single("grade").upper()
    if grade and grade not in ("A", "B", "C", "D"):
        errors["grade"] = "must be A, B, C or D"
    sort = single("sort") or "newest"
    if sort not in CONTACT_SORTS:
        errors["sort"] = f"must be one of {', '.join(CONTACT_SORTS)}"
    created_from, created_to = day("created_from"), day("created_to")
    if created_from and created_to and created_from > created_to:
        errors["created_to"] = "must not be before created_from"
    result = ContactFilter(
        q=q[:200],
        stages=stages,
        owner_id=owner_id,
        unowned=unowned,
        campaign_id=whole("campaign"),
        account_id=whole("account"),
        created_from=created_from,
        created_to=created_to,
        min_score=whole("min_score", low=-100000, high=100000),
        grade=grade,
        sort=sort,
    )
    if errors:
        raise ValidationFailed(errors)
    return result


def contacts_matching(contact_filter: ContactFilter) -> QuerySet[Contact]:
    f = contact_filter
    contacts = Contact.objects.select_related("account", "owner")
    if f.q:
        words = f.q.split()
        for word in words[:5]:
            contacts = contacts.filter(
                Q(email__icontains=word)
                | Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(account__name__icontains=word)
                | Q(job_title__icontains=word)
            )
    if f.stages:
        contacts = contacts.filter(lifecycle_stage__in=f.stages)
    if f.unowned:
        contacts = contacts.filter(owner__isnull=True)
    elif f.owner_id:
        contacts = contacts.filter(owner_id=f.owner_id)
    if f.campaign_id:
        contacts = contacts.filter(
            Exists(Touchpoint.objects.filter(contact=OuterRef("pk"), campaign_id=f.campaign_id))
        )
    if f.account_id:
        contacts = contacts.filter(account_id=f.account_id)
    tz = timezone.get_current_timezone()
    if f.created_from:
        contacts = contacts.filter(created_at__gte=datetime.combine(f.created_from, time.min, tzinfo=tz))
    if f.created_to:
        contacts = contacts.filter(created_at__lt=datetime.combine(f.created_to + timedelta(days=1), time.min, tzinfo=tz))
    if f.min_score is not None:
        contacts = contacts.filter(score__gte=f.min_score)
    if f.grade:
        contacts = contacts.filter(grade=f.grade)
    return contacts.order_by(*CONTACT_SORTS[f.sort])


def contact_timeline(contact: Contact) -> QuerySet[Touchpoint]:
    """Everything both teams did with this person, newest first."""
    return Touchpoint.objects.filter(contact=contact).select_related("campaign", "actor").order_by("-occurred_at", "-id")
