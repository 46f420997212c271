from django.apps import AppConfig


class APIKeysConfig(AppConfig):
    name = "apikeys"
    verbose_name = "API keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apikeys import checks  # noqa: F401  (registers the system check)
        from apikeys.dashboard import throttle  # noqa: F401  (counts failed sign-ins)
