"""Run the whole suite: on SQLite, then on PostgreSQL when ACCORD_TEST_DATABASE_URL names one.

Prints what was skipped and why, and one closing line with the totals of both runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(label: str, extra_env: dict[str, str], args: list[str]) -> tuple[int, dict[str, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        env = {**os.environ, **extra_env}
        print(f"\n=== test suite on {label} ===", flush=True)
        code = subprocess.call(
            [sys.executable, "-m", "pytest", f"--junitxml={report}", *args], cwd=ROOT, env=env
        )
        counts = {"passed": 0, "failed": 0, "skipped": 0}
        if report.exists():
            suite = ET.parse(report).getroot()
            suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
            total = int(suite.get("tests", 0))
            failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skipped = int(suite.get("skipped", 0))
            counts = {"passed": total - failed - skipped, "failed": failed, "skipped": skipped}
        elif code != 0:
            counts["failed"] = 1
        return code, counts


def main() -> int:
    args = sys.argv[1:]
    data_dir = tempfile.mkdtemp(prefix="accord-test-")
    base_env = {"ACCORD_DATA_DIR": data_dir}
    results = []
    sqlite_env = {**base_env, "ACCORD_DATABASE_URL": ""}
    results.append(("SQLite", *run_pytest("SQLite", sqlite_env, args)))

    pg_url = os.environ.get("ACCORD_TEST_DATABASE_URL", "").strip()
    if pg_url.startswith(("postgres://", "postgresql://")):
        pg_env = {**base_env, "ACCORD_DATABASE_URL": pg_url}
        results.append(("PostgreSQL", *run_pytest("PostgreSQL", pg_env, args)))
    else:
        print(
            "\nSKIPPED the PostgreSQL run: ACCORD_TEST_DATABASE_URL does not name a PostgreSQL "
            "database (for example postgresql://postgres@127.0.0.1:5432/accord)."
        )

    print()
    for label, code, counts in results:
        print(f"{label}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    total = {k: sum(c[k] for _, _, c in results) for k in ("passed", "failed", "skipped")}
    worst = max(code for _, code, _ in results)
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 0 if worst == 0 and total["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
