"""Reading the record into numpy arrays for the snapshot refresh and the benchmark.

Every read is one plain SELECT of integers (times as epoch seconds, choices as small codes),
streamed in chunks, so five million touchpoints cost one pass and a few hundred megabytes.
Paths are then cut per conversion with ``searchsorted`` over (entity, time) keys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection

from accord.campaigns.models import Campaign, Channel, Touchpoint, TouchpointKind
from accord.crm.lifecycle import Stage, rank
from accord.crm.models import Account, Contact, Opportunity, OpportunityStage, StageChange
from accord.reports.attribution import PathSet

CHANNELS: tuple[str, ...] = tuple(Channel.values)
CHANNEL_OTHER = CHANNELS.index(Channel.OTHER)
CHANNEL_DIRECT = CHANNELS.index(Channel.DIRECT)
STAGES: tuple[str, ...] = tuple(Stage.values)
_SPAN = np.int64(1) << np.int64(33)  # seconds of (entity, time) keys: ~270 years
CHUNK = 50_000


def reporting_currency() -> str:
    return getattr(settings, "ACCORD_REPORTING_CURRENCY", "USD")


def _epoch(column: str, *, with_params: bool = False) -> str:
    """Epoch seconds of a datetime column (``with_params``: the SQL also takes parameters,
    so a literal percent sign must be doubled)."""
    if connection.vendor == "postgresql":
        return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"
    percent = "%%" if with_params else "%"
    return f"CAST(strftime('{percent}s', {column}) AS INTEGER)"


def _case(column: str, values: tuple[str, ...], default: int) -> str:
    whens = " ".join(f"WHEN '{value}' THEN {index}" for index, value in enumerate(values))
    return f"CASE {column} {whens} ELSE {default} END"


def _read(sql: str, columns: int, dtype=np.int64, params: tuple = ()) -> np.ndarray:
    """Run one SELECT of numbers and return an (n, columns) array, reading in chunks."""
    parts = []
    with connection.cursor() as cursor:
        if params:
            cursor.execute(sql, params)
        else:
            cursor.execute(sql)
        while True:
            rows = cursor.fetchmany(CHUNK)
            if not rows:
                break
            parts.append(np.array(rows, dtype=dtype).reshape(-1, columns))
    if not parts:
        return np.zeros((0, columns), dtype=dtype)
    return np.concatenate(parts)


@dataclass
class Touches:
    contact: np.ndarray
    campaign: np.ndarray  # 0 = none
    channel: np.ndarray  # index into CHANNELS
    time: np.ndarray  # epoch seconds
    direct: np.ndarray  # bool
    marketing: np.ndarray  # bool: by the marketing team


def read_touches() -> Touches:
    """Every touchpoint once: the baseline "read the paths" step of the benchmark."""
    table = Touchpoint._meta.db_table
    kind_page = TouchpointKind.PAGE_VISIT.value
    sql = (
        f"SELECT contact_id, COALESCE(campaign_id, 0), {_case('channel', CHANNELS, -1)}, "
        f"CASE WHEN kind = '{kind_page}' THEN 1 ELSE 0 END, "
        f"CASE WHEN team = 'marketing' THEN 1 ELSE 0 END, {_epoch('occurred_at')} FROM {table}"
    )
    rows = _read(sql, 6)
    channel = rows[:, 2]
    campaign = rows[:, 1]
    # A touch without a campaign and without a channel was a direct visit when it was a page
    # view, and "other" otherwise.
    page_visit = rows[:, 3] == 1
    direct = (channel == CHANNEL_DIRECT) | ((channel < 0) & page_visit & (campaign == 0))
    channel = np.where(channel < 0, np.where(page_visit, CHANNEL_DIRECT, CHANNEL_OTHER), channel)
    return Touches(
        contact=rows[:, 0].copy(),
        campaign=campaign.copy(),
        channel=channel,
        time=rows[:, 5].copy(),
        direct=direct,
        marketing=rows[:, 4] == 1,
    )


@dataclass
class Record:
    """Everything the refresh needs besides touches, as arrays."""

    contact_id: np.ndarray
    contact_account: np.ndarray  # 0 = none
    contact_employees: np.ndarray  # −1 = unknown
    contact_source: np.ndarray  # first-touch channel index, −1 unknown
    contact_campaign: np.ndarray  # first-touch campaign, 0 = none
    lead_time: np.ndarray  # per contact, NaN = never
    mql_time: np.ndarray
    accepted: np.ndarray  # bool: reached SQL or further, ever
    changes: np.ndarray  # (n, 4): contact index, stage, time, from stage (−1 none) — sorted by contact, time
    opp: np.ndarray  # (n, 8): id, account, contact, amount×100, stage_won, stage_lost, created, closed(−1)
    opp_currency_ok: np.ndarray  # bool
    opp_employees: np.ndarray
    campaign_ids: np.ndarray
    campaign_channel: np.ndarray


def read_record() -> Record:
    contacts = _read(
        f"SELECT c.id, COALESCE(c.account_id, 0), COALESCE(a.employee_count, -1), "
        f"{_case('c.first_touch_channel', CHANNELS, -1)}, COALESCE(c.first_touch_campaign_id, 0) "
        f"FROM {Contact._meta.db_table} c LEFT JOIN {Account._meta.db_table} a ON a.id = c.account_id "
        f"ORDER BY c.id",
        5,
    )
    contact_id = contacts[:, 0]
    changes = _read(
        f"SELECT contact_id, {_case('to_stage', STAGES, -1)}, {_epoch('changed_at')}, "
        f"{_case('from_stage', STAGES, -1)} FROM {StageChange._meta.db_table}",
        4,
    )
    changes = changes[changes[:, 1] >= 0]
    changes[:, 0] = np.searchsorted(contact_id, changes[:, 0])
    changes = changes[np.lexsort((changes[:, 2], changes[:, 0]))]
    n = len(contact_id)
    lead_time = np.full(n, np.nan)
    mql_time = np.full(n, np.nan)
    stage_rank = np.array([rank(stage) for stage in STAGES])
    ranks = stage_rank[changes[:, 1]]
    _first_time(lead_time, changes, ranks >= rank(Stage.LEAD))
    _first_time(mql_time, changes, changes[:, 1] == STAGES.index(Stage.MQL))
    accepted = np.zeros(n, dtype=bool)
    accepted[changes[ranks >= rank(Stage.SQL), 0]] = True

    currency = reporting_currency()
    opp_table = Opportunity._meta.db_table
    opp = _read(
        f"SELECT o.id, COALESCE(o.account_id, COALESCE(c.account_id, 0)), COALESCE(o.primary_contact_id, 0), "
        f"CAST(ROUND(o.amount * 100) AS BIGINT), "
        f"CASE WHEN o.stage = '{OpportunityStage.WON}' THEN 1 ELSE 0 END, "
        f"CASE WHEN o.stage = '{OpportunityStage.LOST}' THEN 1 ELSE 0 END, "
        f"{_epoch('o.created_at', with_params=True)}, COALESCE({_epoch('o.closed_at', with_params=True)}, -1), "
        f"CASE WHEN o.currency = %s THEN 1 ELSE 0 END, COALESCE(a.employee_count, -1) "
        f"FROM {opp_table} o LEFT JOIN {Contact._meta.db_table} c ON c.id = o.primary_contact_id "
        f"LEFT JOIN {Account._meta.db_table} a ON a.id = COALESCE(o.account_id, c.account_id) ORDER BY o.id",
        10,
        params=(currency,),
    )
    campaigns = _read(
        f"SELECT id, {_case('channel', CHANNELS, CHANNEL_OTHER)} FROM {Campaign._meta.db_table} ORDER BY id", 2
    )
    return Record(
        contact_id=contact_id,
        contact_account=contacts[:, 1],
        contact_employees=contacts[:, 2],
        contact_source=contacts[:, 3],
        contact_campaign=contacts[:, 4],
        lead_time=lead_time,
        mql_time=mql_time,
        accepted=accepted,
        changes=changes,
        opp=opp[:, :8],
        opp_currency_ok=opp[:, 8] == 1,
        opp_employees=opp[:, 9],
        campaign_ids=campaigns[:, 0],
        campaign_channel=campaigns[:, 1],
    )


def _first_time(out: np.ndarray, changes: np.ndarray, mask: np.ndarray) -> None:
    picked = changes[mask]
    if not len(picked):
        return
    _, first = np.unique(picked[:, 0], return_index=True)
    out[picked[first, 0]] = picked[first, 2]


class KeySpace:
    """Credit keys: one per campaign, then one per channel for touches without a campaign."""

    def __init__(self, campaign_ids: np.ndarray, campaign_channel: np.ndarray):
        self.campaign_ids = campaign_ids
        self.campaign_channel = campaign_channel
        self.n_campaigns = len(campaign_ids)

    def keys(self, touches: Touches) -> np.ndarray:
        index = np.searchsorted(self.campaign_ids, touches.campaign)
        index = np.clip(index, 0, max(self.n_campaigns - 1, 0))
        known = (touches.campaign > 0) & (self.n_campaigns > 0)
        if self.n_campaigns:
            known &= self.campaign_ids[index] == touches.campaign
        return np.where(known, index, self.n_campaigns + touches.channel)

    def describe(self, key: int) -> tuple[int | None, str]:
        """(campaign id or None, channel) for a key; (None, "") for NO_TOUCH."""
        if key < 0:
            return None, ""
        if key < self.n_campaigns:
            return int(self.campaign_ids[key]), CHANNELS[int(self.campaign_channel[key])]
        return None, CHANNELS[key - self.n_campaigns]


class PathIndex:
    """Touches sorted by (entity, time) so a path is two binary searches."""

    def __init__(self, entity: np.ndarray, touches: Touches, keys: np.ndarray, mask: np.ndarray | None = None):
        if mask is not None:
            entity = entity[mask]
            select = np.flatnonzero(mask)
        else:
            select = np.arange(len(entity))
        self.t0 = int(touches.time.min()) - 1 if len(touches.time) else 0
        combined = entity.astype(np.int64) * _SPAN + (touches.time[select] - self.t0)
        order = np.argsort(combined, kind="stable")
        self.combined = combined[order]
        self.source = select[order]
        self.keys = keys
        self.touches = touches

    def entities(self) -> np.ndarray:
        return np.unique(self.combined // _SPAN)

    def cut(self, entity: np.ndarray, until: np.ndarray):
        """Touch indexes (into the touch arrays) and their path number for each (entity, until)."""
        valid = entity > 0
        lo = np.searchsorted(self.combined, entity * _SPAN, side="left")
        hi_key = entity * _SPAN + np.maximum(until - self.t0, -1).astype(np.int64)
        hi = np.searchsorted(self.combined, hi_key, side="right")
        hi = np.where(valid & (until >= self.t0), np.maximum(hi, lo), lo)
        lengths = hi - lo
        total = int(lengths.sum())
        group = np.repeat(np.arange(len(entity)), lengths)
        offsets = np.cumsum(lengths) - lengths
        within = np.arange(total) - np.repeat(offsets, lengths)
        positions = np.repeat(lo, lengths) + within
        return self.source[positions], group

    def whole(self, entity_mask_out: np.ndarray):
        """Paths of every entity not in ``entity_mask_out``: (touch indexes, group)."""
        entity = self.combined // _SPAN
        keep = ~np.isin(entity, entity_mask_out)
        entity = entity[keep]
        source = self.source[keep]
        if not len(entity):
            return source, np.zeros(0, dtype=np.int64), 0
        _, group = np.unique(entity, return_inverse=True)
        return source, group.astype(np.int64), int(group.max()) + 1


def build_pathset(
    index: PathIndex,
    *,
    entity: np.ndarray,
    until: np.ndarray,
    value: np.ndarray,
    lead_time: np.ndarray | None = None,
    opp_time: np.ndarray | None = None,
    null_entities_exclude: np.ndarray | None = None,
) -> PathSet:
    touch, group = index.cut(entity, until.astype(np.int64))
    ps = PathSet(
        group=group,
        key=index.keys[touch],
        time=index.touches.time[touch].astype(np.float64),
        direct=index.touches.direct[touch],
        n_conversions=len(entity),
        conv_time=until.astype(np.float64),
        value=value.astype(np.float64),
        lead_time=lead_time,
        opp_time=opp_time,
    )
    if null_entities_exclude is not None:
        null_touch, null_group, n_null = index.whole(null_entities_exclude)
        ps.null_group = null_group
        ps.null_key = index.keys[null_touch]
        ps.n_null = n_null
    ps._cache["touch_index"] = touch
    return ps


def month_index(epoch: np.ndarray) -> np.ndarray:
    """Months since 1970-01 for epoch seconds (NaN-free input)."""
    return np.asarray(epoch, dtype="int64").astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
