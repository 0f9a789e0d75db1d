"""accord reports refresh: rebuild the report snapshots now (the worker does it hourly)."""

from django.core.management.base import BaseCommand

from accord.reports.services import snapshots_refresh


class Command(BaseCommand):
    help = "Report maintenance. `accord reports refresh` rebuilds the dashboard's snapshot tables."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["refresh"])
        parser.add_argument("--half-life-days", type=float, default=7.0, help="time-decay half-life")
        parser.add_argument("--markov-order", type=int, default=1, help="order of the Markov chain")

    def handle(self, *args, action, half_life_days, markov_order, **options):
        run = snapshots_refresh(half_life_days=half_life_days, markov_order=markov_order, stdout=self.stdout)
        took = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"refreshed report snapshots in {took:.1f}s: {run.counts.get('touchpoints', 0):,} touchpoints, "
            f"{run.counts.get('opportunities', 0):,} opportunities"
        )
