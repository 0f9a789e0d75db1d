from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "accord.dedup"
    label = "dedup"
