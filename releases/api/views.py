"""The pipeline API (/api/v1/): thin views over selectors and domain functions."""

import hashlib
import re
from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated, NotFound, ParseError, PermissionDenied
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from exclusions.membership import MEMBERSHIP_FILE
from governance.exceptions import GovernanceError
from governance.limits import INVENTORY_MAX_BODY_BYTES, MAX_BODY_BYTES
from governance.models import Dataset, Release
from governance.services import inventory_add
from governance.signing import public_keys
from releases import publication
from releases.api import serializers
from releases.api.authentication import HasPipelineToken, token_covers
from releases.notifications import WebhookRefused, webhook_delete, webhook_register
from releases.selectors import exclusions_check, webhooks_of_token

RELEASE_FILES = {
    "manifest.json",
    "repositories.jsonl",
    "repositories.parquet",
    "blobs.parquet",
    MEMBERSHIP_FILE,
    "changes.jsonl",
}
CONTENT_TYPES = {
    ".json": "application/json",
    ".jsonl": "application/x-ndjson",
    ".parquet": "application/vnd.apache.parquet",
    ".fuse16": "application/octet-stream",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")
# Every error an endpoint may answer, documented so clients (and the schema fuzz test) know them.
READ_ERRORS = dict.fromkeys((400, 401, 404, 429), serializers.ErrorSerializer)
WRITE_ERRORS = dict.fromkeys((400, 401, 403, 404, 413, 415, 429), serializers.ErrorSerializer)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class Refused(APIException):
    """A 400 that keeps the domain's own code (`url_refused`, …)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class BoundedBodyMixin:
    """Refuse an oversized body before parsing it (413), instead of reading it all."""

    max_body_bytes = MAX_BODY_BYTES

    def initial(self, request, *args, **kwargs):
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                raise ParseError("Content-Length is not a number.") from None
            if length > self.max_body_bytes:
                raise PayloadTooLarge(f"The body is {length:,} bytes; the limit is {self.max_body_bytes:,}.")
        super().initial(request, *args, **kwargs)


class PipelineView(BoundedBodyMixin, APIView):
    """An endpoint for build pipelines only: a token is required, and a missing one is explained."""

    permission_classes = [HasPipelineToken]

    def permission_denied(self, request, message=None, code=None):
        if request.authenticators and not request.successful_authenticator:
            raise NotAuthenticated(HasPipelineToken.message)
        super().permission_denied(request, message=message, code=code)


def _dataset(slug: str) -> Dataset:
    # A NUL (`%00` in the path) cannot be sent to PostgreSQL, and no slug holds one.
    dataset = Dataset.objects.filter(slug=slug).first() if "\x00" not in slug else None
    if dataset is None:
        raise NotFound(f"No dataset {slug!r}. GET /api/v1/datasets/ lists them.")
    return dataset


def _dataset_of_token(request, slug: str) -> Dataset:
    dataset = _dataset(slug)
    if not token_covers(request, dataset):
        raise PermissionDenied(f"This token is not for {dataset.slug}.")
    return dataset


def _release(dataset: Dataset, version: str) -> Release:
    if version != "latest" and not (version.isascii() and version.isdigit() and len(version) <= 9):
        raise NotFound(f"{version!r} is not a release: use a release number or 'latest'.")
    releases = dataset.releases.order_by("-version")
    release = releases.first() if version == "latest" else releases.filter(version=int(version)).first()
    if release is None:
        raise NotFound(
            f"{dataset.slug} has no release {version}."
            if version != "latest"
            else f"{dataset.slug} has no release yet."
        )
    return release


def release_payload(request, release: Release) -> dict:
    base = f"/api/v1/datasets/{release.dataset.slug}/releases/{release.version}"
    manifest = release.manifest
    return {
        "dataset": release.dataset.slug,
        "version": release.version,
        "created_at": release.created_at,
        "previous": manifest.get("previous"),
        "counts": manifest.get("counts", {}),
        "key_id": manifest.get("key_id", ""),
        "manifest_url": request.build_absolute_uri(f"{base}/manifest.json"),
        "changes_url": request.build_absolute_uri(f"{base}/changes/"),
        "files": [{**info, "url": request.build_absolute_uri(f"{base}/{info['name']}")} for info in manifest["files"]],
    }


def _etag_matches(request, etag: str) -> bool:
    return etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]


class DatasetList(APIView):
    @extend_schema(
        responses={200: serializers.DatasetPageSerializer, **READ_ERRORS},
        operation_id="datasets_list",
        summary="Datasets with their latest release",
    )
    def get(self, request):
        paginator = PageNumberPagination()
        datasets = paginator.paginate_queryset(
            Dataset.objects.annotate(latest_release=Max("releases__version")).order_by("slug"), request, view=self
        )
        payload = [
            {
                "slug": dataset.slug,
                "name": dataset.name,
                "description": dataset.description,
                "latest_release": dataset.latest_release,
                "allowed_categories": dataset.allowed_categories,
                "allowed_licenses": dataset.allowed_licenses,
                "denied_licenses": dataset.denied_licenses,
                "no_license": dataset.no_license,
            }
            for dataset in datasets
        ]
        return paginator.get_paginated_response(serializers.DatasetSerializer(payload, many=True).data)


class ReleaseList(APIView):
    @extend_schema(
        responses={200: serializers.ReleasePageSerializer, **READ_ERRORS},
        operation_id="releases_list",
        summary="Releases of a dataset, newest first",
    )
    def get(self, request, slug):
        dataset = _dataset(slug)
        paginator = PageNumberPagination()
        releases = paginator.paginate_queryset(
            dataset.releases.select_related("dataset").order_by("-version"), request, view=self
        )
        payload = [release_payload(request, release) for release in releases]
        return paginator.get_paginated_response(serializers.ReleaseSerializer(payload, many=True).data)


class ReleaseDetail(APIView):
    @extend_schema(
        responses={200: serializers.ReleaseSerializer, 304: None, **READ_ERRORS},
        operation_id="release_retrieve",
        summary="One release (or `latest`) with its files",
    )
    def get(self, request, slug, version):
        release = _release(_dataset(slug), version)
        etag = f'"{release.manifest.get("signature", "")[:32]}-{release.version}"'
        if _etag_matches(request, etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        cache = IMMUTABLE if version != "latest" else "public, max-age=60"
        return Response(
            serializers.ReleaseSerializer(release_payload(request, release)).data,
            headers={"ETag": etag, "Cache-Control": cache},
        )


class ReleaseFile(APIView):
    @extend_schema(
        operation_id="release_file",
        responses={
            (200, "application/octet-stream"): bytes,
            (206, "application/octet-stream"): bytes,
            304: None,
            416: None,
            **READ_ERRORS,
        },
        summary="A file of a release, as published (a single byte range on request, for resuming)",
    )
    def get(self, request, slug, version, name):
        if name not in RELEASE_FILES:
            raise NotFound(f"A release has no file {name!r}: it has {', '.join(sorted(RELEASE_FILES))}.")
        release = _release(_dataset(slug), version)
        path = publication.release_folder(release) / name
        listed = {info["name"]: info["sha256"] for info in release.manifest["files"]}
        if name == "manifest.json":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        elif name in listed:
            digest = listed[name]
        else:  # a file that came later than this release (the membership filter)
            raise NotFound(f"Release {release.version} has no file {name!r}: see its manifest.json.")
        etag = f'"{digest}"'
        if _etag_matches(request, etag):
            return HttpResponse(status=304, headers={"ETag": etag})
        content_type = CONTENT_TYPES[Path(name).suffix]
        size = path.stat().st_size
        wanted = _byte_range(request, etag, size)
        if wanted == "unsatisfiable":
            response = HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
        elif wanted is not None:
            start, end = wanted
            response = StreamingHttpResponse(_file_slice(path, start, end), status=206, content_type=content_type)
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
            response["Content-Length"] = str(end - start + 1)
        else:
            # FileResponse closes the file when the response is done.
            response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
        response["ETag"] = etag
        response["Accept-Ranges"] = "bytes"
        response["Cache-Control"] = IMMUTABLE if version != "latest" else "public, max-age=60"
        return response


def _byte_range(request, etag: str, size: int):
    """(start, end) of a single `Range: bytes=…` the file can answer, "unsatisfiable", or None for the whole file.

    An interrupted download asks for the rest; `If-Range` with another ETag (the file is not the one the part
    came from) and anything but one byte range get the whole file, as RFC 9110 allows.
    """
    single = _RANGE_RE.fullmatch(request.headers.get("Range", "").strip())
    if single is None or not any(single.groups()):
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None and if_range.strip() != etag:
        return None
    first, last = single.groups()
    if not first:  # the last N bytes
        if int(last) == 0:
            return "unsatisfiable"
        return max(0, size - int(last)), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        return "unsatisfiable"
    return start, end


def _file_slice(path: Path, start: int, end: int, block: int = 256 * 1024):
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = end - start + 1
        while remaining > 0:
            chunk = handle.read(min(block, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


class ReleaseChanges(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("since", int, description="the release you have; default: the previous one")],
        responses={(200, "application/x-ndjson"): str, 304: None, **READ_ERRORS},
        operation_id="release_changes",
        summary="Changes from release `since` to this one (repositories, then blobs), as JSON lines with their version",
    )
    def get(self, request, slug, version):
        dataset = _dataset(slug)
        release = _release(dataset, version)
        raw_since = request.query_params.get("since", "")
        try:
            since = int(raw_since) if raw_since else release.version - 1
        except ValueError:
            raise ParseError(f"since={raw_since!r} is not a release number.") from None
        if not 0 <= since < release.version:
            raise ParseError(f"since must be between 0 and {release.version - 1}.")
        # "blobs": the answer carries blob changes, so a copy cached before they did is not revalidated as current.
        etag = f'"changes-blobs-{dataset.slug}-{since}-{release.version}-{release.manifest.get("signature", "")[:16]}"'
        if _etag_matches(request, etag):
            return HttpResponse(status=304, headers={"ETag": etag})
        releases = list(dataset.releases.filter(version__gte=since, version__lte=release.version).order_by("version"))
        base = releases.pop(0) if releases and releases[0].version == since else None
        response = StreamingHttpResponse(
            publication.changes_since_lines(releases, base=base), content_type="application/x-ndjson"
        )
        response["ETag"] = etag
        response["Cache-Control"] = IMMUTABLE if version != "latest" else "public, max-age=60"
        return response


class KeyList(APIView):
    @extend_schema(
        responses={200: serializers.KeySerializer(many=True), **READ_ERRORS},
        operation_id="keys_list",
        summary="Public keys that sign release manifests",
    )
    def get(self, request):
        keys = [key.as_dict() for key in public_keys(keys_dir=Path(settings.DATA_DIR) / "keys")]
        return Response(
            serializers.KeySerializer(keys, many=True).data, headers={"Cache-Control": "public, max-age=300"}
        )


class Check(BoundedBodyMixin, APIView):
    @extend_schema(
        request=serializers.CheckInputSerializer,
        responses={200: serializers.CheckOutputSerializer, **WRITE_ERRORS},
        parameters=[OpenApiParameter("release", int, description="answer from this published release")],
        operation_id="dataset_check",
        summary="Which of up to 10,000 repositories are excluded, in input order",
    )
    def post(self, request, slug):
        dataset = _dataset(slug)
        repositories = _batch(request, "repositories")
        release_rows = None
        if request.query_params.get("release"):
            release = _release(dataset, request.query_params["release"])
            release_rows = publication.release_lookup(release)
        unusable = entries_unusable(repositories)
        inputs = unusable and [None if index in unusable else item for index, item in enumerate(repositories)]
        results = exclusions_check(
            dataset=dataset, inputs=inputs if unusable else repositories, release_rows=release_rows
        )
        _mark_unusable(results, repositories, unusable)
        # The selector builds exactly CheckOutputSerializer's shape (the schema documents it); running 10,000
        # rows through DRF's serializer would cost more than the lookup itself.
        return Response({"results": results})


def _batch(request, field: str) -> list:
    if not isinstance(request.data, dict) or not isinstance(request.data.get(field), list):
        raise ParseError(f'Send a JSON object: {{"{field}": [ ... ]}}.')
    items = request.data[field]
    if len(items) > serializers.MAX_BATCH:
        raise PayloadTooLarge(f"{len(items):,} entries: send at most {serializers.MAX_BATCH:,} per call.")
    return items


_INT64 = range(-(2**63), 2**63)


def entries_unusable(items: list) -> dict[int, str]:
    """Entries no database or JSON writer can carry, by index, with why: each gets an `invalid_input` error alone.

    JSON lets a caller send a lone surrogate ("\\ud800"), a NUL or an integer beyond 64 bits; PostgreSQL refuses
    the first two and a 64-bit integer column the third, so they never leave the view. Nesting is bounded by the
    parser (limits.MAX_JSON_DEPTH).
    """
    unusable = {}
    for index, item in enumerate(items):
        if type(item) is str and item.isascii() and "\x00" not in item:
            continue  # nearly every entry: plain text
        pending = [item]
        while pending:
            value = pending.pop()
            problem = None
            if isinstance(value, str):
                if "\x00" in value:
                    problem = "it contains a NUL character"
                elif not value.isascii():
                    try:
                        value.encode()
                    except UnicodeEncodeError:
                        problem = "it contains a lone surrogate, which is not a character"
            elif isinstance(value, bool):
                continue
            elif isinstance(value, int) and value not in _INT64:
                problem = "it holds an integer beyond 64 bits"
            elif isinstance(value, dict):
                pending.extend(value.keys())
                pending.extend(value.values())
            elif isinstance(value, list):
                pending.extend(value)
            if problem:
                unusable[index] = f"This entry cannot be read: {problem}."
                break
    return unusable


def _mark_unusable(results: list, items: list, unusable: dict[int, str]) -> None:
    for index, detail in unusable.items():
        results[index] = {"input": items[index], "error": {"code": "invalid_input", "detail": detail}}


class Inventory(PipelineView):
    max_body_bytes = INVENTORY_MAX_BODY_BYTES

    @extend_schema(
        request=serializers.InventoryInputSerializer,
        responses={200: serializers.InventoryOutputSerializer, **WRITE_ERRORS},
        operation_id="dataset_inventory",
        summary="Register repositories (and commits) of a dataset build; needs a pipeline token",
    )
    def post(self, request, slug):
        dataset = _dataset_of_token(request, slug)
        items = _batch(request, "repositories")
        unusable = entries_unusable(items)
        outcome = inventory_add(
            dataset=dataset, items=[None if index in unusable else item for index, item in enumerate(items)]
        )
        _mark_unusable(outcome["results"], items, unusable)
        return Response(serializers.InventoryOutputSerializer(outcome).data)


class Builds(PipelineView):
    @extend_schema(
        request=serializers.BuildInputSerializer,
        responses={201: serializers.BuildOutputSerializer, **WRITE_ERRORS},
        operation_id="dataset_builds",
        summary="Report that a build applied a release; needs a pipeline token",
    )
    def post(self, request, slug):
        dataset = _dataset_of_token(request, slug)
        body = serializers.BuildInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            report = publication.build_report_record(
                dataset=dataset,
                version=body.validated_data["release"],
                build_id=body.validated_data["build_id"],
                notes=body.validated_data["notes"],
                token=request.auth,
            )
        except GovernanceError as error:
            raise ParseError(str(error)) from None
        output = {
            "build_id": report.build_id,
            "dataset": dataset.slug,
            "release": report.release.version,
            "reported_at": report.reported_at,
            "notes": report.notes,
        }
        return Response(serializers.BuildOutputSerializer(output).data, status=status.HTTP_201_CREATED)


def _webhook_payload(webhook) -> dict:
    # The secret is never part of an answer.
    return {"id": webhook.pk, "url": webhook.url, "created_at": webhook.created_at}


class Webhooks(PipelineView):
    @extend_schema(
        responses={200: serializers.WebhookPageSerializer, **READ_ERRORS, 403: serializers.ErrorSerializer},
        operation_id="dataset_webhooks_list",
        summary="This token's webhooks for the dataset (secrets are never shown); needs a pipeline token",
    )
    def get(self, request, slug):
        dataset = _dataset_of_token(request, slug)
        paginator = PageNumberPagination()
        webhooks = paginator.paginate_queryset(webhooks_of_token(token=request.auth, dataset=dataset), request, self)
        payload = [_webhook_payload(webhook) for webhook in webhooks]
        return paginator.get_paginated_response(serializers.WebhookSerializer(payload, many=True).data)

    @extend_schema(
        request=serializers.WebhookInputSerializer,
        responses={201: serializers.WebhookSerializer, **WRITE_ERRORS, 409: serializers.ErrorSerializer},
        operation_id="dataset_webhooks_create",
        summary="Register a webhook told of each new release, signed with its secret; needs a pipeline token",
    )
    def post(self, request, slug):
        dataset = _dataset_of_token(request, slug)
        body = serializers.WebhookInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            webhook = webhook_register(
                token=request.auth,
                dataset=dataset,
                url=body.validated_data["url"],
                secret=body.validated_data["secret"],
            )
        except WebhookRefused as refused:
            raise (Conflict if refused.conflict else Refused)(str(refused), code=refused.code) from None
        return Response(serializers.WebhookSerializer(_webhook_payload(webhook)).data, status=status.HTTP_201_CREATED)


class WebhookDetail(PipelineView):
    @extend_schema(
        responses={204: None, **READ_ERRORS, 403: serializers.ErrorSerializer},
        operation_id="dataset_webhook_delete",
        summary="Delete one of this token's webhooks (and its delivery log); needs a pipeline token",
    )
    def delete(self, request, slug, webhook_id):
        dataset = _dataset_of_token(request, slug)
        if not webhook_delete(token=request.auth, dataset=dataset, webhook_id=webhook_id):
            raise NotFound(f"This token has no webhook {webhook_id} for {dataset.slug}.")
        return Response(status=status.HTTP_204_NO_CONTENT)
