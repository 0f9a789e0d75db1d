"""One measured step of ``accord bench dedup``, run in its own process so that its time and
peak memory are its own: ``python -m accord.bench.dedup_child STEP DATASET SIZE OUT.json``.

Steps: ``load`` (contacts into the database; not measured), ``scan`` (Accord's whole-base
scan), ``index`` (Accord's match-key index), ``splink`` (Splink on DuckDB), ``capture``
(per-record matching against the loaded base).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _peak_mb() -> float:
    """This process's own peak resident memory.

    Linux's ru_maxrss carries over across exec the peak of the address space the process was
    started from: a step started by ``accord bench dedup`` (spawned with vfork) reported the
    parent's peak (220 MB of data sets) whenever its own was lower. VmHWM belongs to the
    current address space only."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()


def step_load(name: str, size: int) -> dict:
    _django()
    from django.core.management import call_command
    from django.db import transaction

    from accord.bench.dedup_data import as_contact_values, dataset
    from accord.core.clock import now
    from accord.crm.models import Contact

    call_command("migrate", verbosity=0, interactive=False)
    data = dataset(name, size)
    moment = now()
    ids = []
    batch = []
    with transaction.atomic():
        for record in data.records:
            batch.append(Contact(**as_contact_values(record), created_at=moment, updated_at=moment))
            if len(batch) == 5000:
                ids.extend(c.pk for c in Contact.objects.bulk_create(batch))
                batch = []
        if batch:
            ids.extend(c.pk for c in Contact.objects.bulk_create(batch))
    return {"records": len(data.records), "true_pairs": data.true_pairs, "rec_ids": [r["rec_id"] for r in data.records], "ids": ids}


def step_scan(name: str, size: int) -> dict:
    _django()
    from accord.dedup.models import Suggestion
    from accord.dedup.services import scan_run

    started = time.perf_counter()
    scan = scan_run(reason="benchmark", build_index=False)
    seconds = time.perf_counter() - started
    peak_mb = _peak_mb()  # the scan's own peak, before the pairs are read back to be scored
    pairs = list(Suggestion.objects.filter(kind="contact", probability__gte=0.5).values_list("left_id", "right_id"))
    return {"seconds": seconds, "peak_mb": peak_mb, "pairs": pairs, "candidate_pairs": scan.candidate_pairs}


def step_index(name: str, size: int) -> dict:
    _django()
    from accord.dedup.services import match_index_build

    started = time.perf_counter()
    count = match_index_build(full=True)
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "contacts": count}


def step_splink(name: str, size: int) -> dict:
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from accord.bench.dedup_data import FEBRL_COLUMNS, dataset

    data = dataset(name, size)
    frame = pd.DataFrame([{**{c: (r[c] or None) for c in FEBRL_COLUMNS}, "unique_id": r["rec_id"]} for r in data.records])
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "date_of_birth"),
            block_on("given_name", "date_of_birth"),
            block_on("postcode", "street_number"),
            block_on("soc_sec_id"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.LevenshteinAtThresholds("postcode", [1, 2]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(frame, settings, db_api=DuckDBAPI())
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    seconds = time.perf_counter() - started
    peak_mb = _peak_mb()  # as for Accord: before the pairs are turned into a list to be scored
    pairs = list(zip(predictions["unique_id_l"], predictions["unique_id_r"], strict=True))
    return {"seconds": seconds, "peak_mb": peak_mb, "pairs": pairs}


def step_capture(name: str, size: int) -> dict:
    """Median time of the matching step for one incoming lead against the loaded base."""
    _django()
    import random
    import statistics

    from accord.bench.dedup_data import _perturb, as_contact_values, febrl_style
    from accord.core.errors import ValidationFailed
    from accord.dedup.matching import FuzzyMatcher
    from accord.intake.leads import lead_from_mapping

    probes = febrl_style(2000, seed=7)
    base = febrl_style(size)
    rng = random.Random(3)
    leads = []
    for i in range(1000):
        # Half are near-duplicates of people already in the base, half are new people.
        record = _perturb(rng, rng.choice(base.records)) if i % 2 == 0 else probes.records[i]
        values = as_contact_values(record)
        values["birth_date"] = values["birth_date"].isoformat() if values["birth_date"] else ""
        try:
            leads.append(lead_from_mapping({k: v for k, v in values.items() if v}, default_region="AU", require_email=False))
        except ValidationFailed:
            continue  # a typo made the value invalid (a birth date in the future): capture would refuse it too
    del base
    matcher = FuzzyMatcher()
    matcher.match_leads(leads[:20])  # warm the caches and the connection
    timings, found = [], 0
    for lead in leads:
        started = time.perf_counter()
        (result,) = matcher.match_leads([lead])
        timings.append((time.perf_counter() - started) * 1000)
        found += bool(result.contact or result.review)
    timings.sort()
    return {
        "median_ms": statistics.median(timings),
        "p95_ms": timings[int(len(timings) * 0.95)],
        "probes": len(timings),
        "matched_or_queued": found,
        "peak_mb": _peak_mb(),
    }


STEPS = {"load": step_load, "scan": step_scan, "index": step_index, "splink": step_splink, "capture": step_capture}


def main(argv: list[str]) -> None:
    step, name, size, out = argv
    result = STEPS[step](name, int(size))
    with open(out, "w") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
