from django.apps import AppConfig


class HandoffConfig(AppConfig):
    name = "accord.handoff"
    label = "handoff"

    def ready(self) -> None:
        from accord.handoff.queries import sla_changes, sla_compliance_kpi
        from accord.reports.providers import register_change_feed, register_kpi_provider

        register_kpi_provider("sla_compliance", sla_compliance_kpi)
        register_change_feed("sla", sla_changes)
        try:
            from accord.crm.panels import register_contact_panel, register_home_panel
        except ImportError:  # the 360° page's panel registry is not installed
            return
        from accord.handoff.views import contact_panel, home_panel

        register_contact_panel("handoff/_contact_panel.html", contact_panel, order=15)
        register_home_panel("handoff/_home_panel.html", home_panel, order=10)
