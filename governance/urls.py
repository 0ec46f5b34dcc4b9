from django.contrib import admin
from django.urls import include, path

from governance import views

urlpatterns = [
    path("", views.home, name="governance-home"),
    path("healthz", views.healthz, name="governance-healthz"),
    path("admin/", admin.site.urls),
    path("", include("optout.urls")),
    path("", include("audits.urls")),
    path("", include("governance.api.urls")),
]
