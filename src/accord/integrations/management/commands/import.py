"""accord import contacts FILE.csv [--rejects OUT.csv] [--map column=field ...] [--campaign C] [--user NAME]"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accord.core.errors import ValidationFailed
from accord.core.models import User
from accord.integrations.csv_import import IMPORT_FIELDS, csv_read
from accord.integrations.services import campaign_find, contacts_import, import_mapping

SHOWN_REJECTS = 100


class Command(BaseCommand):
    help = "Import contacts from a CSV file (HubSpot and Salesforce exports are recognised) through the capture pipeline."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["contacts"], help="what the file holds")
        parser.add_argument("file", help="the CSV file (UTF-8 with or without BOM, or Latin-1)")
        parser.add_argument("--rejects", metavar="OUT.csv", help="write every rejected row, with its line number and reason, here")
        parser.add_argument(
            "--map",
            dest="mappings",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"map a column explicitly (FIELD '-' skips it); fields: {', '.join(IMPORT_FIELDS)}",
        )
        parser.add_argument("--campaign", help="record each row's touchpoint on this campaign (id, UTM campaign or name)")
        parser.add_argument("--user", help="username the import is recorded as")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, what, file, rejects, mappings, campaign, user, no_progress, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as problem:
            raise CommandError(f"cannot read {file}: {problem.strerror}") from None
        overrides = {}
        for item in mappings:
            column, sep, field = item.partition("=")
            if not sep:
                raise CommandError(f"--map {item!r}: write it as COLUMN=FIELD")
            overrides[column] = field
        actor = None
        if user:
            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"--user: there is no user named {user!r}")
        try:
            chosen = campaign_find(reference=campaign) if campaign else None
            csv_file = csv_read(data)
            mapping = import_mapping(csv_file=csv_file, overrides=overrides)
        except ValidationFailed as refused:
            raise CommandError("; ".join(f"{name}: {message}" for name, message in refused.errors.items())) from None

        self.stdout.write(f"{path.name}: {csv_file.encoding}, columns:")
        for name, field in zip(csv_file.header, mapping):
            self.stdout.write(f"  {name or '(no name)'} → {field or '(not imported)'}")
        total = csv_file.count_rows()
        bar = tqdm(total=total, unit="row", disable=no_progress or None, file=sys.stderr, dynamic_ncols=True)
        try:
            result = contacts_import(
                data=data, file_name=path.name, actor=actor, overrides=overrides, campaign=chosen, on_progress=bar.update
            )
        finally:
            bar.close()

        if rejects:
            with open(rejects, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "reason", *result.header])
                for reject in result.rejects:
                    writer.writerow([reject.line, reject.reason, *reject.values])
        shown = result.rejects if not rejects else result.rejects[:SHOWN_REJECTS]
        for reject in shown:
            self.stderr.write(f"line {reject.line}: {reject.reason}")
        if len(shown) < len(result.rejects):
            self.stderr.write(f"… and {len(result.rejects) - len(shown)} more rejected rows in {rejects}")
        elif rejects and result.rejects:
            self.stderr.write(f"rejected rows written to {rejects}")
        job = result.job
        if job.unchanged_count:
            self.stdout.write(f"{job.unchanged_count} rows were already up to date")
        self.stdout.write(result.summary)
