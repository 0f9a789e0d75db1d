from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "accord.knowledge"
    label = "knowledge"
