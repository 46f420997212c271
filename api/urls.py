"""URLs of the guarded API. Every view here declares who may call it (apikeys.decorators)."""

app_name = "api"

urlpatterns: list = []
