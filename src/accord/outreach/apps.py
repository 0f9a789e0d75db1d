from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "accord.outreach"
    label = "outreach"

    def ready(self):
        from accord.crm.panels import register_contact_panel
        from accord.outreach.queries import contact_outreach_panel

        register_contact_panel("outreach/_contact_panel.html", contact_outreach_panel, order=70)
