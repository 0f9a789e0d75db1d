from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "accord.outreach"
    label = "outreach"
