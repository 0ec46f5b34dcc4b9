from django.contrib import admin
from django.urls import include, path

from governance import views

urlpatterns = [
    path("", views.home, name="governance-home"),
    path("healthz", views.healthz, name="governance-healthz"),
    path("admin/", admin.site.urls),
    path("transparency/", views.transparency, name="governance-transparency-report"),
    path("transparency/<slug:slug>.json", views.transparency_download, name="governance-transparency-json"),
    path("transparency/<slug:slug>/", views.transparency, name="governance-transparency-dataset"),
    path(
        "transparency/<slug:slug>/<slug:figure>.csv",
        views.transparency_download,
        {"fmt": "csv"},
        name="governance-transparency-figure-csv",
    ),
    path(
        "transparency/<slug:slug>/<slug:figure>.json",
        views.transparency_download,
        {"fmt": "json"},
        name="governance-transparency-figure-json",
    ),
    path("review/", views.review_overview_page, name="governance-review-overview"),
    path("", include("optout.urls")),
    path("", include("audits.urls")),
    path("", include("governance.api.urls")),
]

# Under /api/ every error is JSON {"code", "detail"}, also those raised outside the API's views.
handler400 = "governance.api.errors.bad_request"
handler403 = "governance.api.errors.permission_denied"
handler404 = "governance.api.errors.page_not_found"
handler500 = "governance.api.errors.server_error"
