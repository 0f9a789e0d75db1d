"""Writes of the reports app: snapshot refresh, KPI targets, the monthly digest."""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal, InvalidOperation
from time import perf_counter

import numpy as np
from django.db import transaction

from accord.campaigns.models import Campaign
from accord.core.clock import now as clock_now
from accord.core.errors import ValidationFailed
from accord.crm.lifecycle import MAIN_LINE, Stage, rank
from accord.reports import attribution as attr
from accord.reports.data import (
    CHANNELS,
    STAGES,
    KeySpace,
    PathIndex,
    build_pathset,
    month_index,
    read_record,
    read_touches,
    reporting_currency,
)
from accord.reports.models import (
    AttributionSnapshot,
    FunnelSnapshot,
    Kpi,
    KpiSnapshot,
    KpiTarget,
    LeadQualitySnapshot,
    OpportunitySourcing,
    RefreshRun,
    RejectionReasonSnapshot,
    Segment,
)
from accord.reports.providers import kpi_provider
from accord.reports.segments import SEGMENT_ORDER, segment_codes, segment_q

METRICS = ("leads", "mqls", "opportunities", "pipeline", "revenue")
MAX_MONTHS = 60


def month_start(value: date | datetime) -> date:
    return date(value.year, value.month, 1)


def month_from_index(index: int) -> date:
    return date(1970 + index // 12, index % 12 + 1, 1)


def index_from_month(value: date) -> int:
    return (value.year - 1970) * 12 + value.month - 1


def add_months(value: date, months: int) -> date:
    return month_from_index(index_from_month(value) + months)


def month_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC datetimes from the start of ``first`` month to the start of the month after ``last``."""
    start = datetime(first.year, first.month, 1, tzinfo=dt_timezone.utc)
    after = add_months(last, 1)
    return start, datetime(after.year, after.month, 1, tzinfo=dt_timezone.utc)


# -- campaign cost ------------------------------------------------------------------------
def campaign_costs_by_month(*, today: date) -> tuple[dict[int, dict[int, float]], dict[str, int]]:
    """Each campaign's cost in the reporting currency, spread evenly over its days.

    Returns ({campaign id: {month index: cost}}, counts of campaigns lacking data). A campaign
    without a cost or in another currency is left out and counted, never taken as zero.
    """
    currency = reporting_currency()
    spread: dict[int, dict[int, float]] = {}
    counts = {"campaigns": 0, "campaigns_without_cost": 0, "campaigns_other_currency": 0}
    rows = Campaign.objects.values_list("id", "actual_cost", "currency", "start_date", "end_date", "created_at")
    for campaign_id, cost, cost_currency, start, end, created in rows:
        counts["campaigns"] += 1
        if cost is None:
            counts["campaigns_without_cost"] += 1
            continue
        if cost_currency != currency:
            counts["campaigns_other_currency"] += 1
            continue
        first = start or created.date()
        last = end or max(first, today)
        days = (last - first).days + 1
        per_day = float(cost) / days
        months: dict[int, float] = defaultdict(float)
        cursor = first
        while cursor <= last:
            month_end = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
            stop = min(month_end, last)
            months[index_from_month(cursor)] += per_day * ((stop - cursor).days + 1)
            cursor = stop + timedelta(days=1)
        spread[campaign_id] = dict(months)
    return spread, counts


# -- refresh ------------------------------------------------------------------------------
def snapshots_refresh(
    *, half_life_days: float = attr.DEFAULT_HALF_LIFE_DAYS, markov_order: int = 1, stdout=None
) -> RefreshRun:
    """Rebuild every snapshot table from the record, in one transaction per table group."""
    started = clock_now()
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        timings[name] = round(perf_counter() - since, 4)
        if stdout is not None:
            stdout.write(f"  {name}: {timings[name]:.2f}s")
        return perf_counter()

    tick = perf_counter()
    touches = read_touches()
    tick = lap("read_touches", tick)
    record = read_record()
    tick = lap("read_record", tick)
    keyspace = KeySpace(record.campaign_ids, record.campaign_channel)
    keys = keyspace.keys(touches)
    paths = conversion_paths(record, touches, keys)
    tick = lap("cut_paths", tick)

    credits: dict[tuple[str, int, int], list[float]] = defaultdict(lambda: [0.0] * len(METRICS))
    markov_summary: dict[str, object] = {"order": markov_order, "metrics": {}}
    for m_index, metric in enumerate(METRICS):
        ps, bucket = paths[metric]
        for model in attr.MODELS:
            if model == "markov":
                result = attr.markov_removal_effects(ps, order=markov_order)
                weights = attr.weights_markov(ps, result=result)
                markov_summary["metrics"][metric] = {
                    "conversion_probability": result.conversion_probability,
                    "removal_effects": [
                        {"campaign": keyspace.describe(int(k))[0], "channel": keyspace.describe(int(k))[1], "effect": float(e)}
                        for k, e in zip(result.keys.tolist(), result.removal_effect.tolist())
                    ],
                }
            else:
                weights = attr.model_weights(ps, model, half_life_days=half_life_days)
            for (month, key), amount in attr.credit_by_key(ps, weights, bucket=bucket).items():
                credits[(model, month, key)][m_index] += amount
        tick = lap(f"attribute_{metric}", tick)

    sourced, first_campaign, touch_count = _opportunity_sourcing(paths["opportunities"][0], touches, keyspace, keys)
    kpi_rows, counts = _kpi_rows(record, sourced, today=started.date())
    counts.update(_data_counts(record, touches, paths))
    funnel_rows = _funnel_rows(record)
    quality_rows, reason_rows = _lead_quality_rows(record)
    tick = lap("kpis_funnel_quality", tick)

    attribution_rows = []
    for (model, month, key), values in credits.items():
        campaign_id, channel = keyspace.describe(key)
        attribution_rows.append(
            AttributionSnapshot(
                model=model,
                month=month_from_index(month),
                campaign_id=campaign_id,
                channel=channel,
                **dict(zip(METRICS, values)),
            )
        )
    sourcing_rows = [
        OpportunitySourcing(
            opportunity_id=int(opp_id),
            marketing_sourced=bool(flag),
            touches=int(count),
            first_campaign_id=int(campaign) or None,
        )
        for opp_id, flag, count, campaign in zip(
            record.opp[:, 0].tolist(), sourced.tolist(), touch_count.tolist(), first_campaign.tolist()
        )
    ]
    with transaction.atomic():
        AttributionSnapshot.objects.all().delete()
        AttributionSnapshot.objects.bulk_create(attribution_rows, batch_size=2000)
        OpportunitySourcing.objects.all().delete()
        OpportunitySourcing.objects.bulk_create(sourcing_rows, batch_size=2000)
        KpiSnapshot.objects.all().delete()
        KpiSnapshot.objects.bulk_create(kpi_rows, batch_size=2000)
        FunnelSnapshot.objects.all().delete()
        FunnelSnapshot.objects.bulk_create(funnel_rows, batch_size=2000)
        LeadQualitySnapshot.objects.all().delete()
        LeadQualitySnapshot.objects.bulk_create(quality_rows, batch_size=2000)
        RejectionReasonSnapshot.objects.all().delete()
        RejectionReasonSnapshot.objects.bulk_create(reason_rows, batch_size=2000)
        tick = lap("write", tick)
        run = RefreshRun.objects.create(
            started_at=started, finished_at=clock_now(), counts=counts, timings=timings, markov=markov_summary
        )
    return run


def conversion_paths(record, touches, keys) -> dict[str, tuple[attr.PathSet, np.ndarray]]:
    """The five conversion path sets (leads, MQLs, opportunities, pipeline, revenue) and the
    month index of each conversion."""
    contact_index = PathIndex(touches.contact, touches, keys)
    contact_pos = np.searchsorted(record.contact_id, touches.contact)
    contact_pos = np.clip(contact_pos, 0, max(len(record.contact_id) - 1, 0))
    touch_account = record.contact_account[contact_pos] if len(record.contact_id) else touches.contact * 0
    # Deals look at the whole account when there is one: entity = account·2+1, else contact·2.
    deal_entity = np.where(touch_account > 0, touch_account * 2 + 1, touches.contact * 2)
    deal_index = PathIndex(deal_entity, touches, keys)

    out: dict[str, tuple[attr.PathSet, np.ndarray]] = {}
    for metric, times in (("leads", record.lead_time), ("mqls", record.mql_time)):
        converted = ~np.isnan(times)
        entity = record.contact_id[converted]
        until = times[converted]
        lead = record.lead_time[converted]
        ps = build_pathset(
            contact_index,
            entity=entity,
            until=until,
            value=np.ones(len(entity)),
            lead_time=lead,
            null_entities_exclude=entity,
        )
        out[metric] = (ps, month_index(until))

    opp = record.opp
    opp_id, account, contact, cents, won, _lost, created, closed = (opp[:, i] for i in range(8))
    entity = np.where(account > 0, account * 2 + 1, np.where(contact > 0, contact * 2, 0))
    contact_pos = np.searchsorted(record.contact_id, contact)
    contact_pos = np.clip(contact_pos, 0, max(len(record.contact_id) - 1, 0))
    lead = np.where(contact > 0, record.lead_time[contact_pos] if len(record.contact_id) else np.nan, np.nan)
    amount = cents / 100.0
    dealt = np.unique(entity[entity > 0])

    def deals(mask: np.ndarray, value: np.ndarray, until: np.ndarray) -> tuple[attr.PathSet, np.ndarray]:
        ps = build_pathset(
            deal_index,
            entity=entity[mask],
            until=until[mask],
            value=value[mask],
            lead_time=lead[mask],
            opp_time=created[mask].astype(np.float64),
            null_entities_exclude=dealt,
        )
        return ps, month_index(until[mask])

    every = np.ones(len(opp_id), dtype=bool)
    out["opportunities"] = deals(every, np.ones(len(opp_id)), created)
    out["pipeline"] = deals(record.opp_currency_ok, amount, created)
    out["revenue"] = deals(record.opp_currency_ok & (won == 1) & (closed >= 0), amount, closed)
    return out


def _opportunity_sourcing(ps: attr.PathSet, touches, keyspace: KeySpace, keys: np.ndarray):
    """Per opportunity: first touch by marketing? its campaign, and the path length."""
    n = ps.n_conversions
    sourced = np.zeros(n, dtype=bool)
    first_campaign = np.zeros(n, dtype=np.int64)
    touch_count = np.zeros(n, dtype=np.int64)
    if ps.touch_count:
        touch = ps._cache["touch_index"]
        starts, lengths, *_ = ps._layout()
        first = touch[starts]
        groups = ps.group[starts]
        sourced[groups] = touches.marketing[first]
        first_campaign[groups] = touches.campaign[first]
        touch_count[groups] = lengths
    return sourced, first_campaign, touch_count


def _kpi_rows(record, sourced: np.ndarray, *, today: date) -> tuple[list[KpiSnapshot], dict]:
    contact_segment = segment_codes(record.contact_employees)
    opp = record.opp
    created_month = month_index(opp[:, 6])
    closed = opp[:, 7]
    closed_month = np.where(closed >= 0, month_index(np.maximum(closed, 0)), -1)
    opp_segment = segment_codes(record.opp_employees)
    amount = opp[:, 3] / 100.0
    ok = record.opp_currency_ok
    won = opp[:, 4] == 1
    lost = opp[:, 5] == 1

    mql_mask = ~np.isnan(record.mql_time)
    mql_month = month_index(record.mql_time[mql_mask].astype(np.int64)) if mql_mask.any() else np.zeros(0, np.int64)
    mql_segment = contact_segment[mql_mask]
    mql_accepted = record.accepted[mql_mask]

    costs, counts = campaign_costs_by_month(today=today)
    cost_month: dict[int, float] = defaultdict(float)
    for months in costs.values():
        for month, amount_in_month in months.items():
            cost_month[month] += amount_in_month

    current = index_from_month(today)
    candidates = [current]
    for arr in (mql_month, created_month, closed_month[closed_month >= 0]):
        if len(arr):
            candidates.append(int(arr.min()))
    first = max(min(candidates), current - MAX_MONTHS + 1)
    months = range(first, current + 1)

    def count(month_arr, mask, segment_arr, month, seg):
        sel = (month_arr == month) & mask
        if seg is not None:
            sel &= segment_arr == seg
        return sel

    rows = []
    provider = kpi_provider(Kpi.SLA_COMPLIANCE)
    true_mql = np.ones(len(mql_month), dtype=bool)
    true_opp = np.ones(len(created_month), dtype=bool)
    for month in months:
        for seg_index in (None, *range(len(SEGMENT_ORDER))):
            segment = "" if seg_index is None else SEGMENT_ORDER[seg_index].value
            mqls = count(mql_month, true_mql, mql_segment, month, seg_index)
            created = count(created_month, true_opp, opp_segment, month, seg_index)
            closed_sel = count(closed_month, true_opp, opp_segment, month, seg_index)
            sla_met = sla_total = None
            if provider is not None:
                start, end = month_bounds(month_from_index(month), month_from_index(month))
                result = provider(start=start, end=end, contacts=_segment_contacts(segment))
                if result is not None:
                    sla_met, sla_total = result.met, result.total
            rows.append(
                KpiSnapshot(
                    month=month_from_index(month),
                    segment=segment,
                    mqls=int(mqls.sum()),
                    mqls_accepted=int((mqls & mql_accepted).sum()),
                    sla_met=sla_met,
                    sla_total=sla_total,
                    opportunities=int(created.sum()),
                    sourced_opportunities=int((created & sourced).sum()),
                    sourced_pipeline=float(amount[created & sourced & ok].sum()),
                    sourced_revenue=float(amount[closed_sel & won & sourced & ok].sum()),
                    won=int((closed_sel & won).sum()),
                    lost=int((closed_sel & lost).sum()),
                    cost=cost_month.get(month, 0.0) if seg_index is None else None,
                    other_currency_opportunities=int((created & ~ok).sum()),
                )
            )
    return rows, counts


def _segment_contacts(segment: str):
    if not segment:
        return None
    from accord.crm.models import Contact

    return Contact.objects.filter(segment_q(segment, "account__"))


def _data_counts(record, touches, paths) -> dict[str, int]:
    opp = record.opp
    counts = {
        "touchpoints": int(len(touches.time)),
        "touchpoints_without_campaign": int((touches.campaign == 0).sum()),
        "opportunities": int(len(opp)),
        "opportunities_without_contacts": int((opp[:, 2] == 0).sum()),
        "opportunities_without_contact_or_account": int(((opp[:, 2] == 0) & (opp[:, 1] == 0)).sum()),
        "opportunities_other_currency": int((~record.opp_currency_ok).sum()),
    }
    for metric, (ps, _) in paths.items():
        has = np.zeros(ps.n_conversions, dtype=bool)
        has[ps.group] = True
        counts[f"{metric}_without_touchpoints"] = int((~has).sum())
        counts[f"{metric}_conversions"] = int(ps.n_conversions)
    return counts


FUNNEL_STAGES = tuple(stage for stage in MAIN_LINE if stage != Stage.CUSTOMER)


def _funnel_rows(record) -> list[FunnelSnapshot]:
    changes = record.changes  # contact index, stage index, time — sorted by contact, time
    if not len(changes):
        return []
    contact = changes[:, 0]
    stage = changes[:, 1]
    time = changes[:, 2]
    stage_rank = np.array([rank(s) for s in STAGES])[stage]
    n = len(changes)
    same_next = np.zeros(n, dtype=bool)
    same_next[:-1] = contact[1:] == contact[:-1]
    duration = np.full(n, np.nan)
    duration[:-1] = np.where(same_next[:-1], (time[1:] - time[:-1]) / 3600.0, np.nan)
    # Highest main-line rank reached after each change, same contact (reverse running max).
    rev_group = (contact.max() - contact)[::-1]
    combined = rev_group * 16 + (stage_rank[::-1] + 1)
    running = np.maximum.accumulate(combined)[::-1] - (contact.max() - contact) * 16 - 1
    later_max = np.full(n, -1)
    later_max[:-1] = np.where(same_next[:-1], running[1:], -1)
    advanced = later_max > stage_rank

    is_first = np.ones(n, dtype=bool)
    is_first[1:] = contact[1:] != contact[:-1]
    entry_time = np.repeat(time[is_first], np.diff(np.append(np.flatnonzero(is_first), n)))
    cohort = month_index(entry_time)

    source = record.contact_source[contact]
    campaign = record.contact_campaign[contact]
    segment = segment_codes(record.contact_employees)[contact]
    funnel_stage = np.isin(stage, [STAGES.index(s) for s in FUNNEL_STAGES])

    dimensions = {
        "all": (np.zeros(n, dtype=np.int64), lambda v: ""),
        "source": (source, lambda v: CHANNELS[v] if v >= 0 else "unknown"),
        "campaign": (campaign, lambda v: str(v) if v > 0 else "none"),
        "segment": (segment, lambda v: SEGMENT_ORDER[v].value),
    }
    rows: list[FunnelSnapshot] = []
    for dimension, (values, label) in dimensions.items():
        for with_cohort in (False, True):
            cohort_key = cohort if with_cohort else np.full(n, -1)
            keys = np.stack([values, cohort_key, stage], axis=1)[funnel_stage]
            dur = duration[funnel_stage]
            adv = advanced[funnel_stage]
            uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
            inverse = inverse.reshape(-1)
            entered = np.bincount(inverse, minlength=len(uniq))
            went_on = np.bincount(inverse, weights=adv.astype(np.float64), minlength=len(uniq))
            medians = _group_medians(inverse, dur, len(uniq))
            for i, (value, month, stage_idx) in enumerate(uniq.tolist()):
                rows.append(
                    FunnelSnapshot(
                        dimension=dimension,
                        value=label(value),
                        cohort_month=month_from_index(month) if month >= 0 else None,
                        stage=STAGES[stage_idx],
                        entered=int(entered[i]),
                        advanced=int(went_on[i]),
                        median_hours=None if np.isnan(medians[i]) else float(medians[i]),
                    )
                )
    return rows


REJECTED = (Stage.RECYCLED, Stage.DISQUALIFIED)
REJECTED_FROM = (Stage.MQL, Stage.SAL)


def _lead_quality_rows(record) -> tuple[list[LeadQualitySnapshot], list[RejectionReasonSnapshot]]:
    """Per month of first MQL and per source / first campaign: MQLs, accepted (reached SAL or
    further), rejected (sent from MQL or SAL to recycled or disqualified), converted (reached
    opportunity or customer); and the rejection reasons."""
    from accord.crm.models import StageChange

    n = len(record.contact_id)
    changes = record.changes
    stage, from_stage = changes[:, 1], changes[:, 3]
    ranks = np.array([rank(s) for s in STAGES])[stage]
    accepted = np.zeros(n, dtype=bool)
    accepted[changes[ranks >= rank(Stage.SAL), 0]] = True
    converted = np.zeros(n, dtype=bool)
    converted[changes[ranks >= rank(Stage.OPPORTUNITY), 0]] = True
    rejection = np.isin(stage, [STAGES.index(s) for s in REJECTED]) & np.isin(
        from_stage, [STAGES.index(s) for s in REJECTED_FROM]
    )
    rejected = np.zeros(n, dtype=bool)
    rejected[changes[rejection, 0]] = True
    is_mql = ~np.isnan(record.mql_time)
    month = np.full(n, -1, dtype=np.int64)
    if is_mql.any():
        month[is_mql] = month_index(record.mql_time[is_mql].astype(np.int64))
    source_key = np.array([CHANNELS[c] if c >= 0 else "" for c in range(-1, len(CHANNELS))], dtype=object)
    groupings = {
        "source": lambda idx: source_key[record.contact_source[idx] + 1],
        "campaign": lambda idx: np.array([str(c) if c > 0 else "" for c in record.contact_campaign[idx].tolist()], dtype=object),
    }
    mql_index = np.flatnonzero(is_mql)
    rows: list[LeadQualitySnapshot] = []
    keys_by: dict[str, np.ndarray] = {}
    for by, keys_of in groupings.items():
        keys = keys_of(mql_index)
        keys_by[by] = keys
        codes, inverse = np.unique(keys.astype(str), return_inverse=True)
        combined = month[mql_index] * (len(codes) + 1) + inverse
        uniq, group = np.unique(combined, return_inverse=True)
        sums = {
            name: np.bincount(group, weights=flag[mql_index].astype(np.float64), minlength=len(uniq))
            for name, flag in (("accepted", accepted), ("rejected", rejected), ("converted", converted))
        }
        counts = np.bincount(group, minlength=len(uniq))
        for i, code in enumerate(uniq.tolist()):
            rows.append(
                LeadQualitySnapshot(
                    month=month_from_index(code // (len(codes) + 1)),
                    by=by,
                    key=str(codes[code % (len(codes) + 1)]),
                    mqls=int(counts[i]),
                    accepted=int(sums["accepted"][i]),
                    rejected=int(sums["rejected"][i]),
                    converted=int(sums["converted"][i]),
                )
            )
    reasons: dict[tuple, int] = defaultdict(int)
    position = {int(c): i for i, c in enumerate(mql_index.tolist())}
    moves = StageChange.objects.filter(from_stage__in=REJECTED_FROM, to_stage__in=REJECTED).values_list("contact_id", "reason")
    for contact_id, reason in moves.iterator(chunk_size=10000):
        contact_pos = int(np.searchsorted(record.contact_id, contact_id))
        where = position.get(contact_pos)
        if where is None:
            continue
        text = (reason or "").strip()[:200] or "(no reason given)"
        for by in groupings:
            reasons[(int(month[contact_pos]), by, str(keys_by[by][where]), text)] += 1
    reason_rows = [
        RejectionReasonSnapshot(month=month_from_index(m), by=by, key=key, reason=text, count=count)
        for (m, by, key, text), count in reasons.items()
    ]
    return rows, reason_rows


def _group_medians(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, np.nan)
    keep = ~np.isnan(values)
    group, values = group[keep], values[keep]
    if not len(values):
        return out
    order = np.lexsort((values, group))
    group, values = group[order], values[order]
    counts = np.bincount(group, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    out[has] = (values[lo[has]] + values[hi[has]]) / 2.0
    return out


# -- targets ------------------------------------------------------------------------------
def kpi_target_set(*, kpi: str, value, segment: str = "", month: date | None = None, actor=None) -> KpiTarget:
    """Set (or replace) a target. Rates are fractions between 0 and 1."""
    errors = {}
    if kpi not in Kpi.values:
        errors["kpi"] = f"unknown KPI; use one of {', '.join(Kpi.values)}"
    if segment and segment not in Segment.values:
        errors["segment"] = f"unknown segment; use one of {', '.join(Segment.values)}"
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["value"] = "must be a number"
        number = None
    if number is not None and number < 0:
        errors["value"] = "must not be negative"
    if number is not None and kpi in RATE_KPIS and number > 1:
        errors["value"] = "a rate is a fraction between 0 and 1 (e.g. 0.35 for 35 %)"
    if errors:
        raise ValidationFailed(errors)
    month = month_start(month) if month else None
    target, _ = KpiTarget.objects.update_or_create(
        kpi=kpi,
        segment=segment,
        month=month,
        defaults={"value": number, "set_by": actor, "updated_at": clock_now()},
    )
    return target


RATE_KPIS = frozenset({Kpi.ACCEPTANCE_RATE, Kpi.SLA_COMPLIANCE, Kpi.WIN_RATE})
