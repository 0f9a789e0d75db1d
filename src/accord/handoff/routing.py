"""Who gets a lead: ordered rules, tried top to bottom, deterministic and explained.

1. ``account_owner``: the owner of the contact's account keeps the account's people.
2. ``territory`` / ``segment``: rules whose criteria (country, region, industry, size) match
   hand the lead to their pool of reps.
3. ``round_robin``: a pool with no criteria catches the rest.

Inside a pool the next rep is the one furthest behind their weight (fewest assignments per
unit of weight; ties go to the lower user id), so a rep of weight 2 gets twice the leads.
Counters are stored on the pool membership, so the rotation survives restarts. Reps marked
away and reps at their capacity of open handoffs are skipped, and the skip is written into
the reason. Rule rows are locked while routing so concurrent routings queue and stay exact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count

from accord.crm.models import Contact
from accord.handoff.criteria import rule_q
from accord.handoff.models import Handoff, HandoffStatus, RepCapacity, RoutingKind, RoutingMember, RoutingRule


@dataclass(frozen=True)
class Route:
    user: object | None
    rule: RoutingRule | None
    reason: str


class _Load:
    """Open handoffs and capacity per rep, kept current while a batch is routed."""

    def __init__(self, user_ids: Iterable[int]):
        user_ids = set(user_ids)
        self.open = dict(
            Handoff.objects.filter(status=HandoffStatus.OPEN, owner_id__in=user_ids)
            .values_list("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
        self.capacity = dict(RepCapacity.objects.filter(user_id__in=user_ids).values_list("user_id", "max_open"))

    def why_not(self, user) -> str:
        """Empty when the rep can take a lead, else why not."""
        if user is None:
            return "no one"
        if not user.is_active:
            return f"{user.display_name} (inactive)"
        if user.is_away:
            return f"{user.display_name} (away)"
        limit = self.capacity.get(user.pk)
        if limit is not None and self.open.get(user.pk, 0) >= limit:
            return f"{user.display_name} (at capacity, {limit} open)"
        return ""

    def take(self, user) -> None:
        self.open[user.pk] = self.open.get(user.pk, 0) + 1


def routing_rules(*, lock: bool) -> list[RoutingRule]:
    rules = RoutingRule.objects.filter(is_active=True).order_by("position", "id")
    if lock and connection.features.has_select_for_update:
        rules = rules.select_for_update()
    rules = list(rules)
    members = defaultdict(list)
    for member in RoutingMember.objects.filter(rule__in=rules).select_related("user").order_by("rule_id", "user_id"):
        members[member.rule_id].append(member)
    for rule in rules:
        rule.pool = members[rule.pk]
    return rules


def route_contacts(*, contacts: Sequence[Contact], exclude_user_ids: Iterable[int] = ()) -> dict[int, Route]:
    """A route for each contact (by id). Call inside a transaction: counters are written."""
    if not contacts:
        return {}
    excluded = set(exclude_user_ids)
    rules = routing_rules(lock=True)
    ids = [contact.pk for contact in contacts]
    matching = {
        rule.pk: set(Contact.objects.filter(pk__in=ids).filter(rule_q(rule)).values_list("pk", flat=True))
        if (rule.countries or rule.regions or rule.industries or rule.segments)
        else set(ids)
        for rule in rules
        if rule.kind != RoutingKind.ACCOUNT_OWNER
    }
    owners = {c.account.owner_id: c.account.owner for c in contacts if c.account_id and c.account.owner_id}
    load = _Load([*owners, *(m.user_id for rule in rules for m in rule.pool)])
    touched: dict[int, RoutingMember] = {}
    routes: dict[int, Route] = {}
    for contact in sorted(contacts, key=lambda c: c.pk):
        skipped: list[str] = []
        route = None
        for rule in rules:
            if rule.kind == RoutingKind.ACCOUNT_OWNER:
                route = _account_owner(contact, rule, load, excluded, skipped)
            elif contact.pk in matching[rule.pk]:
                route = _next_in_pool(contact, rule, load, excluded, skipped, touched)
            if route is not None:
                break
        if route is None:
            gap = f"; skipped {', '.join(skipped)}" if skipped else ""
            route = Route(user=None, rule=None, reason=f"no routing rule found an available rep{gap}")
        else:
            load.take(route.user)
        routes[contact.pk] = route
    if touched:
        RoutingMember.objects.bulk_update(touched.values(), ["assigned"])
    return routes


def _account_owner(contact: Contact, rule: RoutingRule, load: _Load, excluded: set, skipped: list) -> Route | None:
    if not contact.account_id or not contact.account.owner_id:
        return None
    owner = contact.account.owner
    problem = "{} (just breached)".format(owner.display_name) if owner.pk in excluded else load.why_not(owner)
    if problem:
        skipped.append(f"account owner {problem}")
        return None
    return Route(user=owner, rule=rule, reason=f"{rule.name}: {owner.display_name} owns the account {contact.account.name}")


def _next_in_pool(contact, rule: RoutingRule, load: _Load, excluded: set, skipped: list, touched: dict) -> Route | None:
    available = []
    for member in rule.pool:
        problem = f"{member.user.display_name} (just breached)" if member.user_id in excluded else load.why_not(member.user)
        if problem:
            skipped.append(problem)
        else:
            available.append(member)
    if not available:
        return None
    chosen = min(available, key=lambda m: (m.assigned / max(m.weight, 1), m.user_id))
    chosen.assigned += 1
    touched[chosen.pk] = chosen
    matched = _matched_on(contact, rule)
    gap = f"; skipped {', '.join(sorted(set(skipped)))}" if skipped else ""
    return Route(
        user=chosen.user,
        rule=rule,
        reason=(
            f"{rule.name}{matched}: next in weighted round-robin "
            f"(weight {chosen.weight}, {chosen.assigned} assigned so far){gap}"
        )[:300],
    )


def _matched_on(contact: Contact, rule: RoutingRule) -> str:
    facts = []
    if rule.countries:
        facts.append(f"country {contact.country or (contact.account.country if contact.account_id else '')}")
    if rule.regions:
        facts.append(f"region {contact.state}")
    if rule.industries and contact.account_id:
        facts.append(f"industry {contact.account.industry}")
    if rule.segments and contact.account_id:
        facts.append(f"{contact.account.employee_count} employees")
    return f" ({', '.join(facts)})" if facts else ""
