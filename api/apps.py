from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "api"
    verbose_name = "Guarded API"
    default_auto_field = "django.db.models.BigAutoField"
