from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "accord.scoring"
    label = "scoring"

    def ready(self) -> None:
        # The live model's fit rules are the ideal customer profile the reports measure drift against.
        try:
            from accord.reports.providers import register_icp_provider
        except ImportError:  # reports not installed: nothing to feed
            pass
        else:
            from accord.scoring.queries import ideal_customer_profile

            register_icp_provider(ideal_customer_profile)
        # The score panel on the contact's 360° page, through crm's panel registry.
        try:
            from accord.crm import panels
        except ImportError:  # the registry is not installed: the panel is served at /scoring/contacts/<id>/panel/
            return
        from accord.scoring.queries import contact_score_panel_context

        panels.register_contact_panel("scoring/_contact_score.html", contact_score_panel_context, order=20)
