"""Shared fixtures: the named roles, inline tasks, and real git repositories on disk."""

import pytest
from django.contrib.auth.models import Permission

from governance.celery import app as celery_app


@pytest.fixture(autouse=True)
def tasks_run_inline(request):
    """Unit tests run tasks inline; tests marked `worker` talk to a real worker through Redis."""
    inline = request.node.get_closest_marker("worker") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = inline
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Each test writes uploads, mails and releases into its own folder."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


@pytest.fixture
def owner(django_user_model):
    """Someone who owns repositories and may ask for them to be left out."""
    return django_user_model.objects.create_user("owner", "owner@example.org", "owner-password-1")


@pytest.fixture
def outsider(django_user_model):
    """Someone with no claim on anything and no staff rights."""
    return django_user_model.objects.create_user("outsider", "outsider@example.org", "outsider-password-1")


@pytest.fixture
def maintainer(django_user_model):
    """A staff member who maintains the datasets: reviews, imports, publishes."""
    user = django_user_model.objects.create_user(
        "maintainer", "maintainer@example.org", "maintainer-password-1", is_staff=True
    )
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["governance", "optout", "audits"]))
    return user


@pytest.fixture
def make_repository(tmp_path):
    """Build a real git repository on disk: make_repository("acme/lib", {"LICENSE": text}) → its path."""
    from governance.git import local_repository_commit

    def make(name: str, files: dict[str, str | bytes], *, message: str = "Initial commit"):
        path = tmp_path / "repositories" / name
        local_repository_commit(path, files, message=message)
        return path

    return make
