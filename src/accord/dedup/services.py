"""Writes of duplicate detection: the match-key index, scans, suggestions, decisions, merge, undo.

A merge moves every row of every app that points at the losing record (found through the
model's relations, so rows of apps written later move too), records what it did, then
deletes the loser. Undo puts everything back: the loser with its own id, each moved row, the
survivor's overwritten values. Both run in one transaction with the records locked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

import numpy as np
from django.db import connection, models, transaction
from django.db.models import Q

from accord.core.clock import now
from accord.core.db import sqlite_indexes_rebuilt_after, sqlite_page_cache
from accord.core.errors import ValidationFailed
from accord.core.normalize import FREE_MAIL_DOMAINS
from accord.crm.lifecycle import is_forward
from accord.crm.models import Account, Contact, StageChange
from accord.crm.services import contact_change_stage
from accord.dedup import engine
from accord.dedup.blocking import key_families, key_rows
from accord.dedup.engine import FIELDS, MatchParameters
from accord.dedup.keys import Person, blocking_keys, company_core
from accord.dedup.matching import REVIEW_AT, FuzzyMatcher, person_from_lead
from accord.dedup.models import (
    Decision,
    IndexState,
    MatchKey,
    MatchModel,
    Merge,
    RecordKind,
    Scan,
    ScanStatus,
    Suggestion,
    SuggestionSource,
    SuggestionStatus,
)
from accord.dedup.queries import (
    contact_columns,
    current_parameters,
    distinct_pair_arrays,
    distinct_pairs,
    forget_parameters,
    people_by_id,
    suggestion_pair_rows,
)
from accord.intake.bulk_insert import rows_insert

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- the match-key index


def match_keys_refresh(
    *,
    contact_ids: Iterable[int],
    people: Mapping[int, Person] | None = None,
    keys: Mapping[int, Sequence[str]] | None = None,
    created: Iterable[int] = (),
) -> None:
    """Recompute the blocking keys of these contacts (removed ones lose theirs).

    ``people`` are contacts as the caller already has them, exactly as stored (capture has just
    written them): their keys are computed from those, and only the other contacts are read.
    ``keys`` are the blocking keys of such contacts when the caller has computed them already.
    ``created`` are contacts inserted in this transaction with ids never used before: they
    have no keys yet, so there is nothing of theirs to delete.
    Plain SQL: capture runs this for every batch, and model instances per key cost more than
    the statements themselves.
    """
    ids = sorted(set(contact_ids))
    if not ids:
        return
    computed = keys or {}
    given = people or {}
    found = {cid: given[cid] for cid in ids if cid in given and cid not in computed}
    found.update(people_by_id([cid for cid in ids if cid not in given and cid not in computed]))
    fresh = set(created)
    known = [cid for cid in ids if cid not in fresh]
    _match_keys_delete(known)
    # Plain tuples, one prepared statement on SQLite and COPY on PostgreSQL (see rows_insert).
    rows_insert(
        model=MatchKey,
        columns=("contact_id", "key"),
        rows=[
            *((cid, key) for cid in ids if cid in computed for key in computed[cid]),
            *((cid, key) for cid, person in found.items() for key in blocking_keys(person)),
        ],
    )


_KEY_CHUNK = 900


def _match_keys_delete(contact_ids: Sequence[int]) -> None:
    """Remove the match keys of these contacts (plain SQL, a statement per chunk of ids)."""
    if not contact_ids:
        return
    table = connection.ops.quote_name(MatchKey._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter, one statement
            cursor.execute(f"DELETE FROM {table} WHERE contact_id = ANY(%s)", [list(contact_ids)])
            return
        # In chunks: SQLite takes a limited number of parameters per statement.
        for offset in range(0, len(contact_ids), _KEY_CHUNK):
            chunk = list(contact_ids[offset : offset + _KEY_CHUNK])
            cursor.execute(f"DELETE FROM {table} WHERE contact_id IN ({', '.join(['%s'] * len(chunk))})", chunk)


def match_index_build(*, full: bool = False, on_progress: Callable[[int], None] | None = None) -> int:
    """Bring the match-key index up to date: contacts changed since the last build (or all).

    The contacts are read as columns (as the scan reads them), each distinct key is spelled
    once, and the rows go in with one prepared statement (COPY on PostgreSQL).
    """
    state = IndexState.objects.first()
    moment = now()
    since = None if full or state is None or state.built_through is None else state.built_through
    ids, cols = contact_columns(updated_since=since)
    families = key_families(cols)
    del cols
    with transaction.atomic(), sqlite_page_cache(mib=64):
        if since is None:
            MatchKey.objects.all().delete()
        else:
            _match_keys_delete(ids.tolist())
        coming = sum(int((family.codes >= 0).sum()) for family in families.values())
        with sqlite_indexes_rebuilt_after(MatchKey._meta.db_table, rows=coming):
            for rows in key_rows(families, ids):
                rows_insert(model=MatchKey, columns=("contact_id", "key"), rows=rows)
        total = len(ids) if since is None else Contact.objects.count()
        if state is None:
            IndexState.objects.create(built_through=moment, contacts=total, updated_at=moment)
        else:
            IndexState.objects.filter(pk=state.pk).update(built_through=moment, contacts=total, updated_at=moment)
    if on_progress:
        on_progress(len(ids))
    return len(ids)


# --------------------------------------------------------------------------- the model


def _decided_levels() -> tuple[np.ndarray, np.ndarray]:
    merged, distinct = [], []
    for verdict, levels in Decision.objects.filter(kind=RecordKind.CONTACT, withdrawn=False).values_list("verdict", "levels"):
        if len(levels) != len(FIELDS):
            continue
        (merged if verdict == Decision.Verdict.MERGED else distinct).append(levels)
    shape = (0, len(FIELDS))
    return (
        np.asarray(merged, dtype=np.int8).reshape(-1, len(FIELDS)) if merged else np.zeros(shape, dtype=np.int8),
        np.asarray(distinct, dtype=np.int8).reshape(-1, len(FIELDS)) if distinct else np.zeros(shape, dtype=np.int8),
    )


def match_model_save(*, estimated: MatchParameters) -> MatchModel:
    """Store newly estimated parameters with the team's decisions applied on top."""
    merged, distinct = _decided_levels()
    learned = engine.learn_from_decisions(estimated, merged=merged, distinct=distinct)
    model = MatchModel.objects.create(
        kind=RecordKind.CONTACT, parameters=learned.as_json(), estimated=estimated.as_json(), created_at=now()
    )
    forget_parameters()
    return model


def match_model_learn() -> MatchModel:
    """Re-apply every decision to the last estimated parameters (run after each decision)."""
    latest = MatchModel.objects.filter(kind=RecordKind.CONTACT).order_by("-created_at", "-id").first()
    estimated = MatchParameters.from_json(latest.estimated) if latest else MatchParameters.default()
    return match_model_save(estimated=estimated)


# --------------------------------------------------------------------------- suggestions


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def suggestions_record(
    *,
    kind: str = RecordKind.CONTACT,
    pairs: Sequence[tuple[int, int, float, list[int]]],
    source: str,
    params: MatchParameters | None = None,
) -> int:
    """Queue these (id, id, probability, levels) pairs for review; returns how many are new.

    Pairs someone already called "not a duplicate" are never queued again; pending ones are
    refreshed with the newer probability; decided ones stay as they are.
    """
    if not pairs:
        return 0
    params = params or current_parameters()
    moment = now()
    wanted: dict[tuple[int, int], tuple[float, list[int]]] = {}
    for a, b, probability, levels in pairs:
        if a == b:
            continue
        key = _ordered(int(a), int(b))
        if key not in wanted or probability > wanted[key][0]:
            wanted[key] = (float(probability), [int(x) for x in levels])
    refused = distinct_pairs(kind, wanted)
    lefts = {a for a, _ in wanted}
    candidates = Suggestion.objects.filter(kind=kind)
    if len(lefts) <= 2000:  # beyond that, one pass over the kind beats a huge IN list
        candidates = candidates.filter(left_id__in=lefts)
    existing = {(s.left_id, s.right_id): s for s in candidates if (s.left_id, s.right_id) in wanted}
    new, refresh = [], []
    keep = [(pair, value) for pair, value in wanted.items() if pair not in refused]
    if kind == RecordKind.CONTACT and keep:
        weights = params.weights(np.asarray([levels for _, (_, levels) in keep], dtype=np.int8)).tolist()
    else:
        weights = [0.0] * len(keep)
    for ((a, b), (probability, levels)), weight in zip(keep, weights, strict=True):
        current = existing.get((a, b))
        if current is None:
            new.append((a, b, probability, weight, levels))
        elif current.status == SuggestionStatus.PENDING:
            current.probability, current.weight, current.levels, current.updated_at = probability, weight, levels, moment
            refresh.append(current)
    # One transaction: a whole scan's pairs land together (or not at all), and SQLite commits
    # once instead of once per thousand rows.
    with transaction.atomic():
        _suggestions_insert(new, kind=kind, source=source, moment=moment)
        if refresh:
            Suggestion.objects.bulk_update(refresh, ["probability", "weight", "levels", "updated_at"], batch_size=1000)
    return len(new)


def _pair_codes(left: np.ndarray, right: np.ndarray, width: int) -> np.ndarray:
    return left * width + right


def suggestions_record_scan(
    *, left: np.ndarray, right: np.ndarray, patterns: np.ndarray, pattern_of: np.ndarray, params: MatchParameters
) -> int:
    """A scan's likely duplicates into the review queue; returns how many are new.

    Pairs come as columns (left < right, each pair once) with each pair's row in ``patterns``,
    the distinct comparison patterns. The same rules as ``suggestions_record``, set-wise:
    pairs someone called "not a duplicate" are skipped, pending ones refreshed, decided ones
    kept as they are.
    """
    kind = RecordKind.CONTACT
    if len(left) == 0:
        return 0
    stored = suggestion_pair_rows(kind)
    refused_left, refused_right = distinct_pair_arrays(kind)
    width = int(max(right.max(), stored.right.max(initial=0), refused_right.max(initial=0))) + 1
    codes = _pair_codes(left, right, width)
    keep = ~np.isin(codes, _pair_codes(refused_left, refused_right, width))
    # Where each pair sits among the stored ones (``known`` where it is there already).
    stored_codes = _pair_codes(stored.left, stored.right, width)
    order = np.argsort(stored_codes)
    known = np.zeros(len(codes), dtype=bool)
    at = np.zeros(len(codes), dtype=np.int64)
    if len(order):
        at = order[np.minimum(np.searchsorted(stored_codes, codes, sorter=order), len(order) - 1)]
        known = keep & (stored_codes[at] == codes)
    new = np.flatnonzero(keep & ~known)
    refresh = np.flatnonzero(known & stored.pending[at]) if len(order) else np.zeros(0, dtype=np.int64)
    # Probability, weight and stored form (JSON text) of each distinct pattern, once.
    probability = params.probabilities(patterns).tolist()
    weight = params.weights(patterns).tolist()
    levels_json = [json.dumps(row) for row in patterns.tolist()]
    moment = Suggestion._meta.get_field("updated_at").get_db_prep_value(now(), connection)

    def columns(rows: np.ndarray) -> list[list]:
        of = pattern_of[rows].tolist()
        return [
            [probability[k] for k in of], [weight[k] for k in of], [levels_json[k] for k in of],
        ]

    with sqlite_page_cache(mib=64), transaction.atomic():
        with sqlite_indexes_rebuilt_after(Suggestion._meta.db_table, rows=len(new)):
            _suggestions_insert_columns(
                [left[new].tolist(), right[new].tolist(), *columns(new)], kind=kind, source=SuggestionSource.SCAN, at=moment
            )
        if len(refresh):
            _suggestions_refresh_columns([stored.row_id[at[refresh]].tolist(), *columns(refresh)], at=moment)
    return len(new)


# Rows per slice: PostgreSQL takes the columns of a slice as arrays (one round trip per slice
# instead of one per row).
_SCAN_WRITE_SLICE = 10_000
# Pairs per INSERT on SQLite: each run of a statement costs a step and a reset besides binding,
# so a hundred pairs per run went in in 0.3 s where a run per pair took 0.5 s (97,000 pairs).
# 5 values a pair and 5 shared: within SQLite's oldest limit of 999 parameters.
_SQLITE_PAIRS_PER_INSERT = 100


def _suggestions_insert_columns(columns: list[list], *, kind: str, source: str, at) -> None:
    """Insert pending suggestions given as columns (left ids, right ids, probabilities,
    weights, levels as JSON text); a pair already there (queued by capture meanwhile) is skipped."""
    meta = Suggestion._meta
    names = ("kind", "left_id", "right_id", "probability", "weight", "levels", "status", "source", "created_at", "updated_at")
    quote = connection.ops.quote_name
    into = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(meta.get_field(name).column) for name in names)})"
    fixed = [kind, SuggestionStatus.PENDING, source, at, at]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for offset in range(0, len(columns[0]), _SCAN_WRITE_SLICE):
                cursor.execute(
                    f"{into} SELECT %s, u.l, u.r, u.p, u.w, u.lv::jsonb, %s, %s, %s, %s FROM unnest("
                    "%s::bigint[], %s::bigint[], %s::double precision[], %s::double precision[], %s::text[]"
                    ") AS u(l, r, p, w, lv) ON CONFLICT DO NOTHING",
                    [*fixed, *(column[offset : offset + _SCAN_WRITE_SLICE] for column in columns)],
                )
            return

        def insert(pairs: int) -> str:
            # The shared values bound once per statement; "WHERE true" tells SQLite's parser
            # that ON CONFLICT belongs to the INSERT, not to a join of the SELECT.
            return (
                f"{into} SELECT %s, column1, column2, column3, column4, column5, %s, %s, %s, %s "
                f"FROM (VALUES {', '.join(['(%s, %s, %s, %s, %s)'] * pairs)}) WHERE true ON CONFLICT DO NOTHING"
            )

        flat = list(chain.from_iterable(zip(*columns, strict=True)))
        step = _SQLITE_PAIRS_PER_INSERT * len(columns)
        whole = len(flat) - len(flat) % step
        if whole:
            cursor.executemany(insert(_SQLITE_PAIRS_PER_INSERT), ([*fixed, *flat[start : start + step]] for start in range(0, whole, step)))
        if whole < len(flat):
            cursor.execute(insert((len(flat) - whole) // len(columns)), [*fixed, *flat[whole:]])


def _suggestions_refresh_columns(columns: list[list], *, at) -> None:
    """Set probability, weight and levels of pending suggestions given as columns (row ids,
    probabilities, weights, levels as JSON text)."""
    table = connection.ops.quote_name(Suggestion._meta.db_table)
    with connection.cursor() as cursor:
        for offset in range(0, len(columns[0]), _SCAN_WRITE_SLICE):
            ids, probabilities, weights, levels = (column[offset : offset + _SCAN_WRITE_SLICE] for column in columns)
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} AS s SET probability = u.p, weight = u.w, levels = u.lv::jsonb, updated_at = %s "
                    "FROM unnest(%s::bigint[], %s::double precision[], %s::double precision[], %s::text[]) AS u(id, p, w, lv) "
                    "WHERE s.id = u.id",
                    [at, ids, probabilities, weights, levels],
                )
            else:
                cursor.executemany(
                    f"UPDATE {table} SET probability = %s, weight = %s, levels = %s, updated_at = %s WHERE id = %s",
                    [(p, w, lv, at, row_id) for row_id, p, w, lv in zip(ids, probabilities, weights, levels, strict=True)],
                )


def _suggestions_insert(rows: list[tuple], *, kind: str, source: str, moment) -> None:
    """Insert (left, right, probability, weight, levels) rows; a pair already there is skipped."""
    if not rows:
        return
    left, right, probabilities, weights, levels = (list(column) for column in zip(*rows, strict=True))
    at = Suggestion._meta.get_field("created_at").get_db_prep_value(moment, connection)
    _suggestions_insert_columns(
        [left, right, probabilities, weights, [json.dumps(row) for row in levels]], kind=kind, source=source, at=at
    )


def suggestion_mark_distinct(*, suggestion: Suggestion, actor) -> Suggestion:
    """"Not a duplicate": remembered forever for this pair, and the model learns from it."""
    with transaction.atomic():
        locked = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
        if locked.status != SuggestionStatus.PENDING:
            raise ValidationFailed.single("status", f"this pair is already {locked.get_status_display().lower()}")
        moment = now()
        locked.status, locked.decided_by, locked.decided_at, locked.updated_at = SuggestionStatus.DISTINCT, actor, moment, moment
        locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        Decision.objects.create(
            kind=locked.kind, left_id=locked.left_id, right_id=locked.right_id, verdict=Decision.Verdict.DISTINCT,
            levels=locked.levels, decided_by=actor, decided_at=moment,
        )
        if locked.kind == RecordKind.CONTACT:
            transaction.on_commit(match_model_learn)
    return locked


# --------------------------------------------------------------------------- capture


def capture_matcher() -> FuzzyMatcher:
    return FuzzyMatcher()


def capture_followup(
    *,
    contact_ids: Iterable[int],
    review: Sequence[tuple[int, int, float, list[int]]],
    people: Mapping[int, Person] | None = None,
    keys: Mapping[int, Sequence[str]] | None = None,
    created: Iterable[int] = (),
) -> None:
    """After a capture batch: index the contacts it touched (``people`` and ``keys``: those it
    knows as stored, ``created``: those it has just inserted, see match_keys_refresh) and queue
    its grey-zone pairs."""
    match_keys_refresh(contact_ids=contact_ids, people=people, keys=keys, created=created)
    if review:
        suggestions_record(pairs=review, source=SuggestionSource.CAPTURE)


@dataclass
class ImportPreview:
    rows: int = 0
    exact: int = 0
    probable: int = 0
    possible: int = 0
    new: int = 0

    def as_dict(self) -> dict:
        return {"rows": self.rows, "exact": self.exact, "probable": self.probable, "possible": self.possible, "new": self.new}


def import_preview(leads: Sequence, *, batch_size: int = 2000) -> ImportPreview:
    """How many incoming leads match existing contacts: exactly (email, phone, id), probably
    (would update an existing contact), possibly (would be created and queued for review)."""
    preview = ImportPreview(rows=len(leads))
    matcher = FuzzyMatcher()
    for offset in range(0, len(leads), batch_size):
        for match in matcher.match_leads(leads[offset : offset + batch_size]):
            if match.contact is not None and match.how != "fuzzy":
                preview.exact += 1
            elif match.contact is not None:
                preview.probable += 1
            elif match.review:
                preview.possible += 1
            else:
                preview.new += 1
    return preview


# --------------------------------------------------------------------------- scans


def scan_request(*, actor=None, reason: str = "on demand") -> Scan:
    """Queue a whole-base scan for the worker (or run it once the transaction commits, when
    this installation has no worker)."""
    waiting = Scan.objects.filter(status=ScanStatus.QUEUED).order_by("-created_at").first()
    if waiting is not None:
        return waiting  # one queued scan covers every request made before it starts
    scan = Scan.objects.create(status=ScanStatus.QUEUED, reason=reason[:100], requested_by=actor, created_at=now())
    try:
        from accord.worker.services import job_enqueue
    except ImportError:
        transaction.on_commit(lambda: scan_run(scan_id=scan.pk))
    else:
        job_enqueue(name="dedup.scan", payload={"scan_id": scan.pk}, dedupe_key=f"dedup.scan:{scan.pk}")
    return scan


def scan_run(*, scan_id: int | None = None, reason: str = "on demand", build_index: bool = True, on_progress=None) -> Scan:
    """Scan the whole base: estimate the model, queue every likely duplicate pair, match accounts.

    Idempotent: a finished scan is not run again; a scan run twice queues each pair once.
    """
    if scan_id is None:
        scan = Scan.objects.create(status=ScanStatus.QUEUED, reason=reason[:100], created_at=now())
    else:
        scan = Scan.objects.get(pk=scan_id)
        if scan.status == ScanStatus.DONE:
            return scan

    def progress(step: str, fraction: float) -> None:
        Scan.objects.filter(pk=scan.pk).update(step=step, progress=round(fraction, 3))
        if on_progress:
            on_progress(step, fraction)

    Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.RUNNING, started_at=now(), step="reading", progress=0)
    try:
        ids, cols = contact_columns()
        latest = MatchModel.objects.filter(kind=RecordKind.CONTACT).order_by("-created_at", "-id").first()
        start = MatchParameters.from_json(latest.estimated) if latest else None
        result = engine.scan_columns(cols, start=start, on_progress=progress)
        model = match_model_save(estimated=result.params)
        params = MatchParameters.from_json(model.parameters)
        chosen = np.flatnonzero(result.probabilities_under(params) >= REVIEW_AT)
        # The pairs capture would queue (not colleagues, not namesakes at two employers) that
        # share more than names and a town: over a whole base, namesakes abound, and a pair
        # with nothing else in common is one a reviewer cannot decide either.
        levels, ia, ib = result.patterns[result.pattern_of[chosen]], result.ia[chosen], result.ib[chosen]
        reviewable = engine.worth_review(
            levels, two_people=result.two_people[chosen],
            two_work_addresses=engine.update_needs_review(cols, ia, ib, levels),
        )
        chosen = chosen[reviewable & engine.agrees_beyond_names_and_place(levels)]
        del cols
        progress("saving", 0.95)
        # Indexes ascend with ids (read in id order), so the left id is the smaller.
        created = suggestions_record_scan(
            left=ids[result.ia[chosen]], right=ids[result.ib[chosen]], patterns=result.patterns,
            pattern_of=result.pattern_of[chosen], params=params,
        )
        created += accounts_scan()
        if build_index:
            progress("indexing", 0.97)
            match_index_build()
        Scan.objects.filter(pk=scan.pk).update(
            status=ScanStatus.DONE, step="done", progress=1.0, records=len(ids), candidate_pairs=len(result.ia),
            suggestions=created, finished_at=now(),
        )
    except Exception as failure:
        Scan.objects.filter(pk=scan.pk).update(status=ScanStatus.FAILED, error=str(failure)[:2000], finished_at=now())
        raise
    scan.refresh_from_db()
    return scan


# --------------------------------------------------------------------------- accounts

_ACCOUNT_LEVELS = ("name", "domain")


def _domain_root(domain: str) -> str:
    parts = domain.split(".")
    return parts[-2] if len(parts) >= 2 else domain


def pair_cautions(left, right) -> list[str]:
    """What a reviewer should know before merging two contacts that the probability hides.

    The same reasons that keep capture from updating such a pair on its own: names, company and
    town can agree completely for two colleagues or namesakes (shown at 100 %), while their own
    work mailboxes say two people.
    """
    if not isinstance(left, Contact) or not isinstance(right, Contact):
        return []
    mailboxes = [(left.email or "").lower().rpartition("@"), (right.email or "").lower().rpartition("@")]
    (box_a, at_a, domain_a), (box_b, at_b, domain_b) = mailboxes
    if not (at_a and at_b) or box_a + domain_a == box_b + domain_b:
        return []
    if domain_a in FREE_MAIL_DOMAINS or domain_b in FREE_MAIL_DOMAINS:
        return []
    if domain_a == domain_b:
        return ["Own mailboxes at one company: often two people with the same name."]
    return ["Work addresses at two companies: a namesake, or the same person after a job change."]


def suggestion_explain(suggestion: Suggestion, params: MatchParameters | None = None) -> list[dict]:
    """Why this pair was suggested, field by field, with the evidence each field adds."""
    if suggestion.kind == RecordKind.ACCOUNT:
        return _account_explanation(suggestion.levels)
    if len(suggestion.levels) != len(FIELDS):
        return []
    return (params or current_parameters()).explain(suggestion.levels)


def _account_explanation(levels: list[int]) -> list[dict]:
    name_level, domain_level = (levels + [-1, -1])[:2]
    names = {-1: "missing", 0: "differs", 1: "similar", 2: "same once legal suffixes are removed"}
    domains = {-1: "missing", 0: "differs", 1: "same name, other ending", 2: "same"}
    return [
        {"field": "name", "label": "Company name", "level": names.get(name_level, "missing"), "weight": 0.0},
        {"field": "domain", "label": "Domain", "level": domains.get(domain_level, "missing"), "weight": 0.0},
    ]


def accounts_scan() -> int:
    """Companies that look like one: the same name once legal suffixes are gone, or the same
    domain name under another ending (acme.com / acme.de) with a similar name."""
    from rapidfuzz import fuzz

    rows = list(Account.objects.order_by("pk").values_list("id", "name", "domain"))
    blocks: dict[str, list[int]] = {}
    info = {}
    for account_id, name, domain in rows:
        core = company_core(name)
        root = _domain_root(domain) if domain else ""
        info[account_id] = (core, domain, root)
        if core:
            blocks.setdefault(f"n:{core}", []).append(account_id)
            blocks.setdefault(f"t:{core.split()[0]}", []).append(account_id)
        if root:
            blocks.setdefault(f"d:{root}", []).append(account_id)
    pairs = set()
    for members in blocks.values():
        if 1 < len(members) <= 50:
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    pairs.add(_ordered(a, b))
    found = []
    for a, b in pairs:
        core_a, domain_a, root_a = info[a]
        core_b, domain_b, root_b = info[b]
        domain_level = -1
        if domain_a and domain_b:
            domain_level = 2 if domain_a == domain_b else 1 if root_a == root_b else 0
        name_level = -1
        if core_a and core_b:
            # One name inside the other ("Xenon" / "Xenon Works") is similar only when the domains
            # say the same company too: on its own it is as often a different company.
            similar = fuzz.token_sort_ratio(core_a, core_b) >= 85 or (domain_level == 1 and fuzz.token_set_ratio(core_a, core_b) >= 85)
            name_level = 2 if core_a == core_b else 1 if similar else 0
        if name_level == 2 and domain_level in (-1, 1):
            probability = 0.95
        elif name_level == 1 and domain_level == 1:
            probability = 0.85
        elif name_level == 2 and domain_level == 0:
            probability = 0.6
        elif name_level == 1 and domain_level == -1:
            probability = 0.55
        else:
            continue
        found.append((a, b, probability, [name_level, domain_level]))
    return suggestions_record(kind=RecordKind.ACCOUNT, pairs=found, source=SuggestionSource.SCAN)


# --------------------------------------------------------------------------- merge


# Fields a person chooses on the merge screen (default: the most recently updated record's
# value when it has one). Everything else is combined by rule (see _combine).
CONTACT_CHOICE_FIELDS = (
    "first_name", "last_name", "email", "phone", "job_title", "seniority", "account", "owner",
    "street", "city", "postcode", "state", "country", "birth_date", "external_id",
)
ACCOUNT_CHOICE_FIELDS = ("name", "domain", "industry", "employee_count", "annual_revenue", "country", "website", "owner")


def choice_fields(kind: str) -> tuple[str, ...]:
    return ACCOUNT_CHOICE_FIELDS if kind == RecordKind.ACCOUNT else CONTACT_CHOICE_FIELDS


def model_for(kind: str) -> type[models.Model]:
    return Account if kind == RecordKind.ACCOUNT else Contact


def _empty(value) -> bool:
    return value is None or value == ""


def default_choices(kind: str, survivor, loser) -> dict[str, str]:
    """Per field, whose value wins by default: the most recent non-empty one."""
    newer, older = (loser, survivor) if loser.updated_at > survivor.updated_at else (survivor, loser)
    out = {}
    for name in choice_fields(kind):
        attname = survivor._meta.get_field(name).attname
        winner = newer if not _empty(getattr(newer, attname)) else older
        out[name] = "survivor" if winner is survivor else "loser"
    return out


def _value_string(obj, name: str):
    field = obj._meta.get_field(name)
    value = getattr(obj, field.attname)
    return None if value is None else field.value_to_string(obj)


def _restore_value(obj, name: str, text) -> None:
    field = obj._meta.get_field(name)
    setattr(obj, field.attname, None if text is None else field.to_python(text))


def _serialize(rows: Iterable[models.Model]) -> list:
    """Rows as text, every value at full precision (microseconds included), for an exact undo."""
    out = []
    for row in rows:
        values = {}
        for field in row._meta.concrete_fields:
            value = getattr(row, field.attname)
            values[field.attname] = None if value is None else field.value_to_string(row)
        out.append({"model": row._meta.label, "fields": values})
    return out


def _deserialize_save(data: list) -> None:
    from django.apps import apps

    for item in data:
        model = apps.get_model(item["model"])
        row = model()
        for field in model._meta.concrete_fields:
            text = item["fields"].get(field.attname)
            setattr(row, field.attname, None if text is None else field.to_python(text))
        # Raw: stored exactly as it was, no automatic timestamps.
        row.save_base(raw=True, force_insert=True)


def _relations(model: type[models.Model]):
    """Every foreign key (of any app) pointing at this model, except duplicate detection's own."""
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.related_model._meta.app_label == "dedup":
            continue
        if getattr(rel.field, "remote_field", None) is None:
            continue
        yield rel.related_model, rel.field


def _unique_sets(model: type[models.Model], field_name: str) -> list[tuple[str, ...]]:
    """Unique field groups of ``model`` that include ``field_name`` (the rest must not clash)."""
    groups = []
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields and field_name in constraint.fields:
            groups.append(tuple(f for f in constraint.fields if f != field_name))
    for together in model._meta.unique_together:
        if field_name in together:
            groups.append(tuple(f for f in together if f != field_name))
    return groups


def _move_related(model, survivor_pk: int, loser_pk: int) -> tuple[list[dict], list]:
    """Point every row of every app at the survivor; rows that would clash with the
    survivor's own (one per contact, one tag per contact) are removed and kept for undo."""
    moved, removed = [], []
    for related, field in _relations(model):
        column = field.attname
        loser_rows = related._default_manager.filter(**{column: loser_pk})
        clashing: set = set()
        if field.one_to_one or field.unique:
            if related._default_manager.filter(**{column: survivor_pk}).exists():
                clashing = set(loser_rows.values_list("pk", flat=True))
        else:
            for others in _unique_sets(related, field.name):
                if not others:
                    continue
                kept = set(related._default_manager.filter(**{column: survivor_pk}).values_list(*others))
                if kept:
                    for row in loser_rows.values_list("pk", *others):
                        if tuple(row[1:]) in kept:
                            clashing.add(row[0])
        if clashing:
            rows = list(related._default_manager.filter(pk__in=clashing))
            removed.extend(_serialize(rows))
            related._default_manager.filter(pk__in=clashing).delete()
        ids = list(loser_rows.values_list("pk", flat=True))
        if ids:
            related._default_manager.filter(pk__in=ids).update(**{column: survivor_pk})
            moved.append({"model": related._meta.label, "field": column, "ids": ids})
    return moved, removed


def _label(kind: str, obj) -> str:
    if kind == RecordKind.ACCOUNT:
        return f"{obj.name} ({obj.domain})" if obj.domain else obj.name
    return " · ".join(part for part in (obj.full_name, obj.email) if part) or f"Contact {obj.pk}"


def _combine(kind: str, survivor, loser) -> dict[str, object]:
    """Values set by rule, whatever was chosen: history is kept, opt-outs are honoured."""
    if kind == RecordKind.ACCOUNT:
        return {"created_at": min(survivor.created_at, loser.created_at)}
    out: dict[str, object] = {
        "created_at": min(survivor.created_at, loser.created_at),
        # One record said "do not contact": the merged person is not contacted.
        "do_not_contact": survivor.do_not_contact or loser.do_not_contact,
    }
    firsts = [c for c in (survivor, loser) if c.first_touch_at]
    if firsts:
        first = min(firsts, key=lambda c: c.first_touch_at)
        out.update(first_touch_at=first.first_touch_at, first_touch_campaign_id=first.first_touch_campaign_id, first_touch_channel=first.first_touch_channel)
    latests = [c for c in (survivor, loser) if c.latest_touch_at]
    if latests:
        latest = max(latests, key=lambda c: c.latest_touch_at)
        out.update(latest_touch_at=latest.latest_touch_at, latest_touch_campaign_id=latest.latest_touch_campaign_id, latest_touch_channel=latest.latest_touch_channel)
    return out


_COMBINED_CONTACT = (
    "created_at", "do_not_contact", "first_touch_at", "first_touch_campaign", "first_touch_channel",
    "latest_touch_at", "latest_touch_campaign", "latest_touch_channel", "lifecycle_stage", "stage_changed_at", "updated_at",
)
_COMBINED_ACCOUNT = ("created_at", "updated_at")


def records_merge(
    *,
    kind: str = RecordKind.CONTACT,
    survivor_id: int,
    loser_id: int,
    actor=None,
    choices: dict[str, str] | None = None,
    seen_versions: dict[int, datetime] | None = None,
    suggestion: Suggestion | None = None,
) -> Merge:
    """Merge ``loser`` into ``survivor``. ``choices`` maps a field to "survivor" or "loser"
    (defaults: the most recent non-empty value). ``seen_versions`` (id → updated_at as the
    person saw it) refuses the merge when either record was edited in the meantime."""
    if survivor_id == loser_id:
        raise ValidationFailed.single("survivor_id", "a record cannot be merged into itself")
    model = model_for(kind)
    with transaction.atomic():
        # Lock both rows in id order: two merges over the same records wait for each other.
        locked = {obj.pk: obj for obj in model._default_manager.select_for_update().filter(pk__in=[survivor_id, loser_id]).order_by("pk")}
        for role, pk in (("survivor_id", survivor_id), ("loser_id", loser_id)):
            if pk not in locked:
                later = Merge.objects.filter(kind=kind, loser_id=pk, undone_at__isnull=True).order_by("-merged_at").first()
                reason = f"was merged into #{later.survivor_id}" if later else "does not exist"
                raise ValidationFailed.single(role, f"record #{pk} {reason}; review the pair again")
        survivor, loser = locked[survivor_id], locked[loser_id]
        if seen_versions:
            for obj in (survivor, loser):
                seen = seen_versions.get(obj.pk)
                if seen is not None and obj.updated_at != seen:
                    raise ValidationFailed.single(
                        "version", f"{_label(kind, obj)} was changed by someone else since you opened this pair; review it again"
                    )
        picked = {**default_choices(kind, survivor, loser), **(choices or {})}
        unknown = sorted(set(picked) - set(choice_fields(kind)))
        if unknown:
            raise ValidationFailed.single("choices", f"cannot choose {', '.join(unknown)}")
        bad = sorted(name for name, side in picked.items() if side not in ("survivor", "loser"))
        if bad:
            raise ValidationFailed.single("choices", f"{', '.join(bad)}: choose survivor or loser")

        combined_fields = _COMBINED_ACCOUNT if kind == RecordKind.ACCOUNT else _COMBINED_CONTACT
        tracked = (*choice_fields(kind), *combined_fields)
        before = {name: _value_string(survivor, name) for name in tracked}
        snapshot_loser = _serialize([loser])
        survivor_label, loser_label = _label(kind, survivor), _label(kind, loser)
        moved, removed = _move_related(model, survivor.pk, loser.pk)
        model._default_manager.filter(pk=loser.pk).delete()

        moment = now()
        for name, side in picked.items():
            if side == "loser":
                attname = model._meta.get_field(name).attname
                setattr(survivor, attname, getattr(loser, attname))
        for attname, value in _combine(kind, survivor, loser).items():
            setattr(survivor, attname, value)
        survivor.updated_at = moment
        survivor.save()
        stage_change_id = None
        if kind == RecordKind.CONTACT:
            if is_forward(survivor.lifecycle_stage, loser.lifecycle_stage):
                # The merged person is as far along as the further of the two, moved like any
                # other lifecycle move so reports see it.
                change = contact_change_stage(
                    contact=survivor, to_stage=loser.lifecycle_stage, actor=actor, reason=f"merged with {loser_label}",
                    source=StageChange.Source.SYSTEM, at=moment,
                )
                stage_change_id = change.pk
        after = {name: _value_string(survivor, name) for name in tracked}

        touching = Suggestion.objects.select_for_update().filter(
            Q(kind=kind) & (Q(left_id__in=[loser.pk]) | Q(right_id__in=[loser.pk])), status=SuggestionStatus.PENDING
        )
        superseded = [s.pk for s in touching if suggestion is None or s.pk != suggestion.pk]
        Suggestion.objects.filter(pk__in=superseded).update(status=SuggestionStatus.SUPERSEDED, updated_at=moment)
        pair = _ordered(survivor.pk, loser.pk)
        if suggestion is None:
            suggestion = Suggestion.objects.filter(kind=kind, left_id=pair[0], right_id=pair[1]).first()
        if suggestion is not None:
            Suggestion.objects.filter(pk=suggestion.pk).update(
                status=SuggestionStatus.MERGED, decided_by=actor, decided_at=moment, updated_at=moment
            )
        levels = suggestion.levels if suggestion is not None else []
        decision = Decision.objects.create(
            kind=kind, left_id=pair[0], right_id=pair[1], verdict=Decision.Verdict.MERGED, levels=levels,
            decided_by=actor, decided_at=moment,
        )
        merge = Merge.objects.create(
            kind=kind, survivor_id=survivor.pk, loser_id=loser.pk, survivor_label=survivor_label[:300],
            loser_label=loser_label[:300], suggestion=suggestion, merged_by=actor, merged_at=moment,
            snapshot={
                "loser": snapshot_loser, "survivor_before": before, "survivor_after": after, "moved": moved,
                "removed": removed, "superseded": superseded, "stage_change_id": stage_change_id,
                "decision_id": decision.pk, "suggestion_status": SuggestionStatus.PENDING,
            },
        )
        if kind == RecordKind.CONTACT:
            MatchKey.objects.filter(contact_id=loser.pk).delete()
            match_keys_refresh(contact_ids=[survivor.pk])
            if levels:
                transaction.on_commit(match_model_learn)
    return merge


def merge_undo(*, merge: Merge, actor=None) -> Merge:
    """Put both records back exactly as they were before the merge, with their rows.

    Refused when the survivor has since been merged into a third record (undo that merge
    first) or when the loser's id is in use again. Values of the survivor that someone edited
    after the merge are kept, not overwritten.
    """
    kind = merge.kind
    model = model_for(kind)
    with transaction.atomic():
        merge = Merge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationFailed.single("merge", "this merge was already undone")
        survivor = model._default_manager.select_for_update().filter(pk=merge.survivor_id).first()
        if survivor is None:
            later = Merge.objects.filter(kind=kind, loser_id=merge.survivor_id, undone_at__isnull=True).order_by("-merged_at").first()
            hint = f"; undo merge #{later.pk} first" if later else ""
            raise ValidationFailed.single("merge", f"{merge.survivor_label} no longer exists{hint}")
        if model._default_manager.filter(pk=merge.loser_id).exists():
            raise ValidationFailed.single("merge", f"record #{merge.loser_id} exists again; this merge cannot be undone")
        snapshot = merge.snapshot
        before, after = snapshot["survivor_before"], snapshot["survivor_after"]
        restored = []
        for name, old in before.items():
            # Only values still as the merge left them: a later edit by someone is kept.
            if _value_string(survivor, name) == after.get(name):
                _restore_value(survivor, name, old)
                restored.append(name)
        if snapshot.get("stage_change_id"):
            StageChange.objects.filter(pk=snapshot["stage_change_id"]).delete()
        survivor.save()
        _deserialize_save(snapshot["loser"])
        for entry in snapshot["moved"]:
            from django.apps import apps

            related = apps.get_model(entry["model"])
            related._default_manager.filter(pk__in=entry["ids"], **{entry["field"]: survivor.pk}).update(**{entry["field"]: merge.loser_id})
        _deserialize_save(snapshot["removed"])
        moment = now()
        Suggestion.objects.filter(pk__in=snapshot.get("superseded", []), status=SuggestionStatus.SUPERSEDED).update(
            status=SuggestionStatus.PENDING, updated_at=moment
        )
        if merge.suggestion_id:
            Suggestion.objects.filter(pk=merge.suggestion_id, status=SuggestionStatus.MERGED).update(
                status=SuggestionStatus.PENDING, decided_by=None, decided_at=None, updated_at=moment
            )
        Decision.objects.filter(pk=snapshot.get("decision_id")).update(withdrawn=True)
        merge.undone_at, merge.undone_by = moment, actor
        merge.save(update_fields=["undone_at", "undone_by"])
        if kind == RecordKind.CONTACT:
            match_keys_refresh(contact_ids=[merge.survivor_id, merge.loser_id])
            transaction.on_commit(match_model_learn)
    return merge


def suggestion_merge(*, suggestion: Suggestion, actor, survivor_id: int | None = None, choices=None, seen_versions=None) -> Merge:
    """Merge the pair of a suggestion; the survivor defaults to the older record."""
    if suggestion.status != SuggestionStatus.PENDING:
        raise ValidationFailed.single("status", f"this pair is already {suggestion.get_status_display().lower()}")
    pair = (suggestion.left_id, suggestion.right_id)
    survivor = survivor_id if survivor_id is not None else pair[0]
    if survivor not in pair:
        raise ValidationFailed.single("survivor_id", "must be one of the two records of the pair")
    loser = pair[1] if survivor == pair[0] else pair[0]
    return records_merge(
        kind=suggestion.kind, survivor_id=survivor, loser_id=loser, actor=actor, choices=choices,
        seen_versions=seen_versions, suggestion=suggestion,
    )


__all__ = [
    "ImportPreview", "import_preview", "capture_followup", "capture_matcher", "match_index_build", "match_keys_refresh",
    "match_model_learn", "records_merge", "merge_undo", "scan_request", "scan_run", "suggestion_mark_distinct",
    "suggestion_merge", "suggestions_record", "person_from_lead",
]
