"""The dashboard: Project Admin → API Keys."""

app_name = "apikeys"

urlpatterns: list = []
