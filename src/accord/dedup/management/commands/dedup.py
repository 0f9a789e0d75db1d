"""accord dedup scan | index: find duplicates over the whole base, or rebuild the match index."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from accord.dedup.services import match_index_build, scan_run


class Command(BaseCommand):
    help = "Duplicate detection: `scan` the whole base now, or rebuild the match-key `index`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["scan", "index"])
        parser.add_argument("--full", action="store_true", help="index: rebuild every contact's keys")

    def handle(self, *args, action, full, **options):
        if action == "index":
            count = match_index_build(full=full)
            self.stdout.write(f"indexed {count} contacts")
            return
        bar = tqdm(total=100, desc="scan", unit="%", disable=options.get("verbosity", 1) == 0)

        def progress(step, fraction):
            bar.set_description(step)
            bar.update(max(0, round(fraction * 100) - bar.n))

        scan = scan_run(reason="command line", on_progress=progress)
        bar.close()
        self.stdout.write(
            f"scanned {scan.records} contacts, compared {scan.candidate_pairs} candidate pairs, "
            f"queued {scan.suggestions} new suggestions for review"
        )
