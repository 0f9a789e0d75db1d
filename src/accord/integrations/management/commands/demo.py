"""accord demo [--contacts N] [--seed S] [--reset | --keep]: load a realistic demo company."""

from __future__ import annotations

import importlib
import time

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accord.integrations.demo_company import DEMO_PASSWORD, DEMO_USERS, demo_company_load, demo_has_data, demo_now, demo_reset


def demo_modules():
    """Each installed Accord app's ``accord.<app>.demo`` module, in INSTALLED_APPS order."""
    for config in apps.get_app_configs():
        if not config.name.startswith("accord."):
            continue
        name = f"{config.name}.demo"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue
        if hasattr(module, "demo_load"):
            yield config.label, module


class Command(BaseCommand):
    help = "Load a deterministic demo company: people, accounts, campaigns, a year of touchpoints, deals and users."

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=10_000, help="how many contacts (default 10,000)")
        parser.add_argument("--seed", type=int, default=1, help="the same seed gives the same company (default 1)")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--reset", action="store_true", help="empty the database first (all data and users), then load")
        group.add_argument("--keep", action="store_true", help="if data is already loaded, keep it and only print the login")

    def handle(self, *args, contacts, seed, reset, keep, **options):
        if not 1 <= contacts <= 1_000_000:
            raise CommandError("--contacts must be between 1 and 1,000,000")
        if demo_has_data():
            if keep:
                self.stdout.write("Data is already loaded; keeping it.")
                self._print_login()
                return
            if not reset:
                raise CommandError(
                    "The database already holds contacts, accounts or campaigns. Run `accord demo --reset` to empty "
                    "the database and load the demo company, or `accord demo --keep` to keep what is there."
                )
            self.stdout.write("Emptying the database…")
            demo_reset()
        started = time.monotonic()
        now = demo_now()
        summary = demo_company_load(
            contacts=contacts, seed=seed, now=now, progress=lambda message: self.stdout.write(f"  {message}")
        )
        self.stdout.write(
            f"Loaded {summary.contacts:,} contacts at {summary.accounts:,} accounts, {summary.campaigns} campaigns, "
            f"{summary.touchpoints:,} touchpoints, {summary.opportunities:,} opportunities, "
            f"{summary.stage_changes:,} stage changes and {summary.users} users."
        )
        for label, module in demo_modules():
            self.stdout.write(f"  demo data for {label}…")
            module.demo_load(seed=seed, now=now, stdout=self.stdout)
        self.stdout.write(f"Done in {time.monotonic() - started:.1f} s.")
        self._print_login()

    def _print_login(self):
        names = ", ".join(username for username, *_ in DEMO_USERS)
        self.stdout.write("")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/ as manager with password {DEMO_PASSWORD}")
        self.stdout.write(f"(every demo user has that password: {names})")
