from django.apps import AppConfig


class TeamworkConfig(AppConfig):
    """What the two teams say and agree: directory, conversations, requests, goals, the joint meeting."""

    name = "accord.teamwork"
    label = "teamwork"
