from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "accord.knowledge"
    label = "knowledge"

    def ready(self):
        from accord.crm.panels import register_contact_panel
        from accord.knowledge.queries import contact_knowledge_panel

        register_contact_panel("knowledge/_contact_panel.html", contact_knowledge_panel, order=80)
