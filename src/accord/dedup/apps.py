from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "accord.dedup"
    label = "dedup"

    def ready(self) -> None:
        from accord.crm.panels import register_contact_panel
        from accord.dedup.panels import contact_panel_context

        register_contact_panel("dedup/_contact_panel.html", contact_panel_context, order=60)
