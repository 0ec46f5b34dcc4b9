"""The home page, its lookup, and the admin pages maintainers use for the inventory."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from governance.models import DatasetRepository, InventoryImport
from governance.services import dataset_get_or_create, inventory_import_create, inventory_import_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def stack_inventory(tmp_path):
    path = tmp_path / "stack.jsonl"
    names = ["acme/widgets", "acme/gadgets", "other/thing"]
    path.write_text("".join(json.dumps({"repo_name": name}) + "\n" for name in names))
    inventory_import_run(
        import_id=inventory_import_create(dataset_slug="the-stack", source_path=str(path), enqueue=False).pk
    )
    dataset_get_or_create(slug="empty-set", name="Empty set")


def test_home_page_lists_datasets_with_their_inventory_size(client, stack_inventory):
    page = client.get("/").content.decode()
    assert "Am I in the dataset?" in page
    assert "the-stack" in page and "empty-set" in page
    assert '<td class="num" data-label="Repositories">3</td>' in page


def test_home_page_explains_what_to_do_when_there_is_no_dataset(client):
    assert "manage.py import_inventory SLUG FILE" in client.get("/").content.decode()


def test_lookup_finds_a_repository_in_any_spelling(client, stack_inventory):
    page = client.get("/", {"q": "git@github.com:ACME/Widgets.git"}).content.decode()
    assert "<code>github.com/acme/widgets</code>" in page
    assert page.count("status-yes") == 1 and page.count("status-no") == 1


def test_lookup_of_an_owner_lists_its_repositories(client, stack_inventory):
    page = client.get("/", {"q": "https://github.com/acme"}).content.decode()
    assert "Repositories under <code>github.com/acme</code>" in page
    assert "github.com/acme/gadgets" in page and "github.com/acme/widgets" in page and "other/thing" not in page


def test_lookup_of_unreadable_input_says_why_without_failing(client, stack_inventory):
    response = client.get("/", {"q": "ftp://example.org/a/b"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode() and "ftp" in response.content.decode()


def test_anonymous_visitors_cannot_open_the_admin(client):
    response = client.get("/admin/governance/inventoryimport/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_an_outsider_without_staff_rights_cannot_open_the_admin(client, outsider):
    client.force_login(outsider)
    assert client.get("/admin/governance/inventoryimport/").status_code == 302


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/governance/dataset/",
        "/admin/governance/repository/",
        "/admin/governance/datasetrepository/",
        "/admin/governance/inventoryimport/",
        "/admin/governance/inventoryimport/add/",
        "/admin/optout/optoutrequest/",
        "/admin/optout/exclusion/",
    ],
)
def test_a_maintainer_sees_the_inventory_admin_pages(client, maintainer, stack_inventory, url):
    client.force_login(maintainer)
    assert client.get(url).status_code == 200


def test_a_maintainer_uploads_an_inventory_and_sees_its_refused_rows(
    client, maintainer, django_capture_on_commit_callbacks
):
    client.force_login(maintainer)
    upload = SimpleUploadedFile("shard.jsonl", b'{"repo_name": "up/loaded"}\n{"repo_name": "ftp://x.org/a/b"}\n')
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/governance/inventoryimport/add/", {"dataset": "uploaded", "file": upload})
    inventory_import = InventoryImport.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{inventory_import.pk}/change/")
    assert inventory_import.status == "done" and inventory_import.rows_failed == 1
    assert DatasetRepository.objects.filter(dataset__slug="uploaded").count() == 1
    detail = client.get(response["Location"]).content.decode()
    assert "row 2:" in detail and "ftp" in detail


def test_an_upload_in_an_unknown_format_is_refused_before_anything_is_stored(client, maintainer):
    client.force_login(maintainer)
    upload = SimpleUploadedFile("inventory.xlsx", b"PK")
    response = client.post("/admin/governance/inventoryimport/add/", {"dataset": "x", "file": upload})
    assert response.status_code == 200 and "Use a .jsonl" in response.content.decode()
    assert not InventoryImport.objects.exists()
