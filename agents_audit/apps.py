from django.apps import AppConfig


class AgentsAuditConfig(AppConfig):
    name = "agents_audit"
    verbose_name = "Agent audit"

    def ready(self) -> None:
        from agents_audit import checks  # noqa: F401 (registers the system checks)
