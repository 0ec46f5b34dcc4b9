"""Publishing releases: files, signatures, changes, immutability; and the build reports that apply them."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from exclusions.release_files import blobs_read, changes_read, repositories_read
from governance.models import Release
from governance.services import dataset_get_or_create
from governance.signing import manifest_verify, public_keys
from optout import services
from optout.models import OptOutRequest
from releases.publication import build_report_record, release_folder, release_publish
from tests.optout_helpers import commit_proof, file_and_confirm

pytestmark = pytest.mark.django_db(transaction=True)


def keys(settings):
    return {key.key_id: key.public_key for key in public_keys(keys_dir=settings.DATA_DIR / "keys")}


def exclude(*targets, slug="the-stack", namespace=False, reason="legal"):
    args = ["exclude", slug, *targets, "--reason", reason] + (["--namespace"] if namespace else [])
    call_command(*args, stdout=StringIO())


@pytest.fixture
def dataset():
    return dataset_get_or_create(slug="the-stack")[0]


def test_a_release_holds_the_registry_signed_and_checksummed(dataset, settings):
    exclude("github.com/b/two", "github.com/a/one")
    exclude("github.com/gone-owner", namespace=True, slug="all")
    release = release_publish(dataset_slug="the-stack")
    folder = release_folder(release)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == release.manifest
    manifest_verify(manifest=manifest, public_keys=keys(settings))
    assert manifest["version"] == 1 and manifest["previous"] is None and manifest["dataset"] == "the-stack"
    assert manifest["counts"] == {"repositories": 2, "namespaces": 1, "blobs": 0, "added": 3, "removed": 0}
    rows = [(row.repository, row.scope, row.reasons) for row in repositories_read(folder / "repositories.parquet")]
    assert rows == [
        ("github.com/a/one", "repository", ("administrative",)),
        ("github.com/b/two", "repository", ("administrative",)),
        ("github.com/gone-owner", "namespace", ("administrative",)),
    ]
    import hashlib

    for info in manifest["files"]:
        content = (folder / info["name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == info["sha256"] and len(content) == info["bytes"]


def test_no_address_or_private_reason_ever_reaches_a_release(dataset, make_repository):
    path = make_repository("p/r", {"a": "1"})
    request = file_and_confirm(
        repositories=[path.as_uri()], email="secret-owner@example.org", reason="my private why"
    ).request
    commit_proof(make_repository, "p/r", request.proof_token)
    services.optout_request_verify_now(request=request)
    exclude("github.com/x/y", reason="sealed court case 123")
    release = release_publish(dataset_slug="the-stack")
    everything = b"".join(path.read_bytes() for path in release_folder(release).iterdir())
    for secret in (
        b"secret-owner",
        b"example.org",
        b"my private why",
        b"sealed court case",
        request.proof_token.encode(),
    ):
        assert secret not in everything


def test_the_next_release_records_the_changes_and_the_old_one_never_changes(dataset, make_repository):
    exclude("github.com/a/one")
    first = release_publish(dataset_slug="the-stack")
    before = {path.name: path.read_bytes() for path in release_folder(first).iterdir()}
    admin_request = OptOutRequest.objects.get()
    services.optout_request_withdraw(request=admin_request)
    exclude("github.com/c/three")
    second = release_publish(dataset_slug="the-stack")
    assert second.version == 2 and second.manifest["previous"] == 1
    changes = list(changes_read(release_folder(second) / "changes.jsonl"))
    assert [(change["op"], change["repository"]) for change in changes] == [
        ("remove", "github.com/a/one"),
        ("add", "github.com/c/three"),
    ]
    assert {path.name: path.read_bytes() for path in release_folder(first).iterdir()} == before


def test_a_crashed_publication_leaves_no_half_release(dataset, monkeypatch):
    from releases import publication

    exclude("github.com/a/one")

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(publication, "changes_write", crash)
    with pytest.raises(RuntimeError):
        release_publish(dataset_slug="the-stack")
    assert not Release.objects.exists()
    assert list(publication.releases_dir(dataset).iterdir()) == []
    monkeypatch.undo()
    assert release_publish(dataset_slug="the-stack").version == 1


def test_blobs_of_opted_out_repositories_are_carried_minus_those_others_keep(dataset):
    from governance.models import DatasetRepository, Repository, RepositoryBlob

    exclude("github.com/owner/opted-out")
    opted_out = Repository.objects.get(canonical="github.com/owner/opted-out")
    kept = Repository.objects.create(
        canonical="github.com/other/kept",
        host="github.com",
        namespace="github.com/other",
        clone_url="https://github.com/other/kept.git",
    )
    DatasetRepository.objects.create(dataset=dataset, repository=kept)
    own, shared = "a" * 40, "b" * 40
    RepositoryBlob.objects.bulk_create(
        [
            RepositoryBlob(repository=opted_out, blob_id=own, size=100),
            RepositoryBlob(repository=opted_out, blob_id=shared, size=100),
            RepositoryBlob(repository=kept, blob_id=shared, size=100),
        ]
    )
    release = release_publish(dataset_slug="the-stack")
    assert list(blobs_read(release_folder(release) / "blobs.parquet")) == [own]


def test_publish_release_prints_json(dataset):
    exclude("github.com/a/one")
    out = StringIO()
    call_command("publish_release", "the-stack", "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["dataset"] == "the-stack" and printed["version"] == 1 and printed["counts"]["repositories"] == 1
    assert printed["path"].endswith("releases/the-stack/1")


def test_publishing_an_unknown_dataset_is_refused():
    with pytest.raises(CommandError, match="No dataset 'nope'"):
        call_command("publish_release", "nope")


def test_a_build_report_moves_the_carried_requests_to_applied(dataset, make_repository):
    path = make_repository("q/r", {"a": "1"})
    request = file_and_confirm(repositories=[path.as_uri()]).request
    commit_proof(make_repository, "q/r", request.proof_token)
    services.optout_request_verify_now(request=request)
    assert OptOutRequest.objects.get(pk=request.pk).state == "active"
    release = release_publish(dataset_slug="the-stack")
    build_report_record(dataset=dataset, version=release.version, build_id="nightly-2026-11-27")
    request.refresh_from_db()
    assert request.state == "applied"
    assert "applied by build nightly-2026-11-27" in request.events.get(kind="applied").message


def test_the_status_page_names_the_release_and_the_build(client, dataset, make_repository):
    path = make_repository("s/r", {"a": "1"})
    confirmation = file_and_confirm(repositories=[path.as_uri()])
    commit_proof(make_repository, "s/r", confirmation.request.proof_token)
    services.optout_request_verify_now(request=confirmation.request)
    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert "No published release carries it yet: the next one will." in page
    release = release_publish(dataset_slug="the-stack")
    build_report_record(dataset=dataset, version=release.version, build_id="build-7")
    page = client.get(f"/opt-out/r/{confirmation.status_token}/").content.decode()
    assert "Excluded from release <a" in page and "build <code>build-7</code> (release 1," in page
    assert 'id="request-state">Applied in a release<' in page


def test_blobs_of_an_opted_out_repository_are_listed_with_git_and_published(dataset, make_repository):
    from governance.git import git_run
    from governance.models import BlobListing
    from releases.blobs import EMPTY_BLOB

    path = make_repository("t/own", {"src/a.py": "print('mine')\n", "LICENSE": "MIT License text\n", "empty.txt": ""})
    exclude(path.as_uri())
    out = StringIO()
    call_command("publish_release", "the-stack", "--list-blobs", stdout=out, stderr=StringIO())
    release = Release.objects.get()
    own = git_run("rev-parse", "HEAD:src/a.py", cwd=path).decode().strip()
    assert list(blobs_read(release_folder(release) / "blobs.parquet")) == [own]
    listing = BlobListing.objects.get()
    assert listing.status == "done" and listing.blobs == 1 and listing.skipped == 2
    assert EMPTY_BLOB not in list(blobs_read(release_folder(release) / "blobs.parquet"))


def test_a_rotated_key_signs_new_releases_and_old_ones_still_verify(dataset, settings):
    exclude("github.com/a/one")
    first = release_publish(dataset_slug="the-stack")
    call_command("rotate_signing_key", stdout=StringIO())
    second = release_publish(dataset_slug="the-stack")
    assert first.manifest["key_id"] != second.manifest["key_id"]
    for release in (first, second):
        manifest_verify(manifest=release.manifest, public_keys=keys(settings))


def test_a_dataset_on_a_schedule_is_published_when_due(dataset):
    from datetime import timedelta

    from django.utils import timezone

    from releases.publication import releases_due

    assert releases_due() == []
    dataset.publish_every_hours = 24
    dataset.save()
    assert releases_due() == ["the-stack"]
    release = release_publish(dataset_slug="the-stack")
    assert releases_due() == []
    Release.objects.filter(pk=release.pk).update(created_at=timezone.now() - timedelta(hours=25))
    assert releases_due() == ["the-stack"]


def test_an_applied_exclusion_is_lifted_only_by_a_fresh_proof(client, dataset, make_repository, settings):
    settings.OPTOUT_VERIFY_INTERVAL_SECONDS = 0
    path = make_repository("u/r", {"a": "1"})
    confirmation = file_and_confirm(repositories=[path.as_uri()])
    request = confirmation.request
    commit_proof(make_repository, "u/r", request.proof_token)
    services.optout_request_verify_now(request=request)
    release = release_publish(dataset_slug="the-stack")
    build_report_record(dataset=dataset, version=release.version, build_id="b-1")
    url = f"/opt-out/r/{confirmation.status_token}/"

    client.post(url, {"action": "reinclude"})
    request.refresh_from_db()
    assert request.reinclusion_token.startswith("dataset-opt-in-") and request.state == "applied"
    assert request.reinclusion_token in client.get(url).content.decode()

    client.post(url, {"action": "verify_reinclusion"})  # the old token is still committed
    request.refresh_from_db()
    assert request.state == "applied" and "not found yet" in request.events.last().message

    commit_proof(make_repository, "u/r", request.reinclusion_token)
    client.post(url, {"action": "verify_reinclusion"})
    request.refresh_from_db()
    assert request.state == "withdrawn" and "Re-included after a fresh proof" in request.events.last().message
    from optout.models import Exclusion

    assert Exclusion.objects.get().revoked_at is not None


def test_re_inclusion_is_only_for_applied_requests(dataset, make_repository):
    from governance.exceptions import GovernanceError

    request = file_and_confirm(repositories=[make_repository("v/r", {"a": "1"}).as_uri()]).request
    with pytest.raises(GovernanceError, match="before that, withdraw"):
        services.optout_request_reinclusion_start(request=request)
