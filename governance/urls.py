from django.contrib import admin
from django.urls import include, path

from governance import views

# The project's URLconf names the apps by string, as INSTALLED_APPS does: the ground floor imports none of them.
urlpatterns = [
    path("healthz", views.healthz, name="governance-healthz"),
    path("admin/", admin.site.urls),
    path("", include("releases.urls")),
    path("", include("optout.urls")),
    path("", include("audits.urls")),
]

# Under /api/ every error is JSON {"code", "detail"}, also those raised outside the API's views.
handler400 = "releases.api.errors.bad_request"
handler403 = "releases.api.errors.permission_denied"
handler404 = "releases.api.errors.page_not_found"
handler500 = "releases.api.errors.server_error"
