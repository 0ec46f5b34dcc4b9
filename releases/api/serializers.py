"""Explicit input and output shapes of the API: the published formats never follow a model change by accident."""

from rest_framework import serializers

from governance.limits import MAX_BATCH  # noqa: F401 - the views and the schema read it here


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


class DatasetSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    latest_release = serializers.IntegerField(allow_null=True)
    allowed_categories = serializers.ListField(child=serializers.CharField())
    allowed_licenses = serializers.ListField(child=serializers.CharField())
    denied_licenses = serializers.ListField(child=serializers.CharField())
    no_license = serializers.CharField()


class FileSerializer(serializers.Serializer):
    name = serializers.CharField()
    bytes = serializers.IntegerField()
    rows = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField()


class ReleaseSerializer(serializers.Serializer):
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    previous = serializers.IntegerField(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    key_id = serializers.CharField()
    manifest_url = serializers.CharField()
    changes_url = serializers.CharField()
    files = FileSerializer(many=True)


class KeySerializer(serializers.Serializer):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="base64 of the raw 32-byte Ed25519 public key")
    created_at = serializers.CharField()
    active = serializers.BooleanField()


class CheckInputSerializer(serializers.Serializer):
    repositories = serializers.ListField(
        child=serializers.JSONField(),
        max_length=MAX_BATCH,
        allow_empty=True,
        help_text="Up to 10,000 repositories in any spelling (URLs, owner/name, …)",
    )


class CheckResultSerializer(serializers.Serializer):
    input = serializers.JSONField()
    repository = serializers.CharField(required=False)
    excluded = serializers.BooleanField(required=False)
    reasons = serializers.ListField(child=serializers.CharField(), required=False)
    error = ErrorSerializer(required=False)


class CheckOutputSerializer(serializers.Serializer):
    results = CheckResultSerializer(many=True)


class InventoryItemSerializer(serializers.Serializer):
    repository = serializers.CharField(max_length=1000)
    commit = serializers.CharField(max_length=64, required=False, allow_blank=True)


class InventoryInputSerializer(serializers.Serializer):
    repositories = serializers.ListField(child=serializers.JSONField(), max_length=MAX_BATCH)


class InventoryOutputSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    results = CheckResultSerializer(many=True)


class BuildInputSerializer(serializers.Serializer):
    build_id = serializers.CharField(max_length=200)
    release = serializers.IntegerField(min_value=1)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class BuildOutputSerializer(serializers.Serializer):
    build_id = serializers.CharField()
    dataset = serializers.CharField()
    release = serializers.IntegerField()
    reported_at = serializers.DateTimeField()
    notes = serializers.CharField()


class CompatUrlSerializer(serializers.Serializer):
    url = serializers.CharField()
    optOut = serializers.BooleanField()  # noqa: N815 - the field name existing clients read
    optIn = serializers.BooleanField()  # noqa: N815


class CompatOutputSerializer(serializers.Serializer):
    urls = CompatUrlSerializer(many=True)


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)


class DatasetPageSerializer(PageSerializer):
    results = DatasetSerializer(many=True)


class ReleasePageSerializer(PageSerializer):
    results = ReleaseSerializer(many=True)


class WebhookInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="https:// URL the portal POSTs each new release to")
    secret = serializers.CharField(
        min_length=16,
        max_length=200,
        write_only=True,
        trim_whitespace=False,
        help_text="16 to 200 characters; signs every delivery (X-Signature-256); never shown again",
    )


class WebhookSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    created_at = serializers.DateTimeField()


class WebhookPageSerializer(PageSerializer):
    results = WebhookSerializer(many=True)
