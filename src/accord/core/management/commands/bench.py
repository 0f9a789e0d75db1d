"""accord bench NAME [--json PATH] [--size N]: run a benchmark and print its figures."""

import json

from django.core.management.base import BaseCommand, CommandError

from accord.bench import available


class Command(BaseCommand):
    help = "Run a benchmark; prints figures and ratios against a baseline measured in the same run."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="which benchmark; omit to list them")
        parser.add_argument("--json", dest="json_path", help="also write the figures as JSON to this file")
        parser.add_argument("--size", type=int, default=None, help="override the benchmark's data size")
        parser.add_argument("--database-url", default="", help="run against this database instead of a temporary SQLite file")
        parser.add_argument("--seconds", type=float, default=None, help="duration of load tests")

    def handle(self, *args, name, json_path, **options):
        benches = available()
        if not name:
            self.stdout.write("Benchmarks: " + ", ".join(benches))
            return
        if name not in benches:
            raise CommandError(f"no benchmark named {name!r}; choose one of {', '.join(benches)}")
        # Django's own options (verbosity, stdout, …) are not the benchmark's business.
        bench_options = {key: options[key] for key in ("size", "database_url", "seconds")}
        figures = benches[name](stdout=self.stdout, **bench_options)
        self.stdout.write("")
        self.stdout.write(f"{'target':<58} {'figure':>12} {'unit':<6} {'limit':>8}  met")
        for row in figures:
            limit = "" if row.limit is None else f"{row.limit:g}"
            met = {True: "yes", False: "NO", None: "-"}[row.met]
            self.stdout.write(f"{row.target:<58} {row.figure:>12.4g} {row.unit:<6} {limit:>8}  {met}")
        if json_path:
            with open(json_path, "w") as handle:
                json.dump([row.as_json() for row in figures], handle, indent=2)
            self.stdout.write(f"wrote {json_path}")
