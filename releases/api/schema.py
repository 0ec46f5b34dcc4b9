"""The OpenAPI schema at /api/schema/: what API clients ask for, and something a browser shows.

drf-spectacular answers `application/vnd.oai.openapi` (YAML) or `…+json`; a browser downloads either as a file.
A request that accepts text/html (a browser's) gets the same document as `text/plain; charset=utf-8` (YAML), or as
`application/json` with `?format=json`. Any other client gets what drf-spectacular negotiates, as before.
"""

from drf_spectacular.renderers import OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation

_DISPLAYED = ("text/plain", "application/json")


class YamlAsTextRenderer(OpenApiYamlRenderer):
    media_type = "text/plain"
    charset = "utf-8"


class BrowsersGetADisplayedType(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        renderer, media_type = super().select_renderer(request, renderers, format_suffix)
        if "text/html" not in request.META.get("HTTP_ACCEPT", "") or media_type.startswith(_DISPLAYED):
            return renderer, media_type
        shown = next(
            (other for other in renderers if other.format == renderer.format and other.media_type in _DISPLAYED), None
        )
        return (shown, shown.media_type) if shown else (renderer, media_type)


class SchemaView(SpectacularAPIView):
    renderer_classes = [*SpectacularAPIView.renderer_classes, YamlAsTextRenderer]
    content_negotiation_class = BrowsersGetADisplayedType
