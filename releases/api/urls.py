from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerView

from releases.api import compat, views
from releases.api.schema import SchemaView

VERSION = r"(?P<version>[^/]+)"

urlpatterns = [
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/datasets/", views.DatasetList.as_view(), name="api-dataset-list"),
    path("api/v1/keys/", views.KeyList.as_view(), name="api-key-list"),
    path("api/v1/datasets/<str:slug>/releases/", views.ReleaseList.as_view(), name="api-release-list"),
    re_path(
        rf"^api/v1/datasets/(?P<slug>[^/]+)/releases/{VERSION}/$",
        views.ReleaseDetail.as_view(),
        name="api-release-detail",
    ),
    re_path(
        rf"^api/v1/datasets/(?P<slug>[^/]+)/releases/{VERSION}/changes/$",
        views.ReleaseChanges.as_view(),
        name="api-release-changes",
    ),
    re_path(
        rf"^api/v1/datasets/(?P<slug>[^/]+)/releases/{VERSION}/(?P<name>[^/]+)$",
        views.ReleaseFile.as_view(),
        name="api-release-file",
    ),
    path("api/v1/datasets/<str:slug>/check/", views.Check.as_view(), name="api-dataset-check"),
    path("api/v1/datasets/<str:slug>/inventory/", views.Inventory.as_view(), name="api-dataset-inventory"),
    path("api/v1/datasets/<str:slug>/builds/", views.Builds.as_view(), name="api-dataset-builds"),
    path("api/v1/datasets/<str:slug>/webhooks/", views.Webhooks.as_view(), name="api-dataset-webhooks"),
    path(
        "api/v1/datasets/<str:slug>/webhooks/<int:webhook_id>/",
        views.WebhookDetail.as_view(),
        name="api-dataset-webhook",
    ),
    path("api/v2/query/urls/", compat.QueryUrls.as_view(), name="api-compat-query-urls"),
]
