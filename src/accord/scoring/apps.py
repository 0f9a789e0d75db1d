from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "accord.scoring"
    label = "scoring"

    def ready(self) -> None:
        # The score panel on the contact's 360° page, through crm's panel registry.
        try:
            from accord.crm import panels
        except ImportError:  # the registry is not installed: the panel is served at /scoring/contacts/<id>/panel/
            return
        from accord.scoring.queries import contact_score_panel_context

        panels.register_contact_panel("scoring/_contact_score.html", contact_score_panel_context, order=20)
