from django.apps import AppConfig


class DevskyyConfig(AppConfig):
    """The project package as an app: it owns the API's own bookkeeping (idempotency records)."""

    name = "devskyy"
    verbose_name = "API plumbing"

    def ready(self) -> None:
        from devskyy import checks  # noqa: F401  (registers the system checks)
