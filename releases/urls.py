from django.urls import include, path

from releases import views

# URL names keep their `governance-` prefix: they were published under it (templates, tests, reverse()).
urlpatterns = [
    path("", views.home, name="governance-home"),
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
    path("", include("releases.api.urls")),
]
