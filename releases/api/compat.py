"""POST /api/v2/query/urls/: the shape existing opt-out clients already speak, answered from our registry."""

from drf_spectacular.utils import OpenApiRequest, extend_schema
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.response import Response

from releases.api import serializers
from releases.api.views import WRITE_ERRORS, PayloadTooLarge, PipelineView
from releases.selectors import exclusions_check


class PlainTextParser(BaseParser):
    media_type = "text/plain"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("The body must be UTF-8 text: one URL per line.") from None


class QueryUrls(PipelineView):
    parser_classes = [PlainTextParser]

    @extend_schema(
        request=OpenApiRequest(request=str, encoding=None),
        responses={200: serializers.CompatOutputSerializer, **WRITE_ERRORS},
        operation_id="compat_query_urls",
        summary="Opt-out status of up to 10,000 URLs, one per line (compatible with existing clients)",
    )
    def post(self, request):
        text = request.data if isinstance(request.data, str) else ""
        if not isinstance(request.data, str) and request.data:
            raise ParseError("Send the URLs as text/plain, one per line.")
        # Blank lines are skipped; every other line is echoed back exactly as sent.
        urls = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
        if len(urls) > serializers.MAX_BATCH:
            raise PayloadTooLarge(f"{len(urls):,} URLs: send at most {serializers.MAX_BATCH:,} per call.")
        datasets = list(request.user.token.datasets.all())
        excluded = [False] * len(urls)
        for dataset in datasets:
            for index, result in enumerate(exclusions_check(dataset=dataset, inputs=[url.strip() for url in urls])):
                excluded[index] = excluded[index] or bool(result.get("excluded"))
        answer = [{"url": url, "optOut": flag, "optIn": False} for url, flag in zip(urls, excluded, strict=True)]
        return Response(serializers.CompatOutputSerializer({"urls": answer}).data)
