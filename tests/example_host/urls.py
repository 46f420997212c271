from django.contrib import admin
from django.urls import include, path

from tests.example_host import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("v1/reports", views.reports),
    path("v1/drf/reports", views.ReportsView.as_view()),
    path("v1/ninja/", views.api.urls),
    path("keys/", include("apikeys.urls")),
]
