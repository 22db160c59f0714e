from django.apps import AppConfig


class AgentsAuditConfig(AppConfig):
    name = "agents_audit"
    verbose_name = "Agent audit"
