from django.apps import AppConfig


class AgentsAuditConfig(AppConfig):
    name = "agents_audit"
    verbose_name = "Agent audit"

    def ready(self) -> None:
        from agents_audit import checks, dashboard  # noqa: F401 (checks: registers the system checks)

        dashboard.register_panels()  # the admin index's panels
