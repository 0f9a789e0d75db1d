from django.apps import AppConfig


class TeamworkConfig(AppConfig):
    """What the two teams say and agree: directory, conversations, requests, goals, the joint meeting."""

    name = "accord.teamwork"
    label = "teamwork"

    def ready(self):
        from accord.crm.panels import register_account_panel, register_contact_panel, register_home_panel
        from accord.teamwork.queries import account_comments_panel, contact_comments_panel, home_action_items_panel

        register_contact_panel("teamwork/_record_comments.html", contact_comments_panel, order=90)
        register_account_panel("teamwork/_record_comments.html", account_comments_panel, order=90)
        register_home_panel("teamwork/_home_actions.html", home_action_items_panel, order=60)
