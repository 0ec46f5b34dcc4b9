"""bench/debian_sources.py without the network: its own apt source list, the tar fallback of dpkg-source, and the
commit of an upstream tree."""

import io
import subprocess
import tarfile

from bench.debian_sources import _unpack_with_tar, apt_options, source_list_write, tree_commit, tree_paths

SYSTEM_SOURCES = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


def tarball(path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:xz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))


def test_the_source_list_takes_the_systems_mirror_and_keyring_for_bookworm_main(tmp_path):
    system = tmp_path / "debian.sources"
    system.write_text(SYSTEM_SOURCES)

    written = source_list_write(tmp_path / "work", system_sources=system).read_text()

    assert written.splitlines() == [
        "Types: deb-src",
        "URIs: http://deb.debian.org/debian",
        "Suites: bookworm",
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    ]


def test_apt_reads_only_the_work_folders_lists_and_cache(tmp_path):
    options = apt_options(tmp_path)

    assert "Dir::Etc::SourceList=/dev/null" in options
    assert f"Dir::Etc::SourceParts={tmp_path / 'sources.list.d'}" in options
    assert f"Dir::State::Lists={tmp_path / 'lists'}" in options
    assert f"Dir::Cache={tmp_path / 'cache'}" in options


def test_without_dpkg_source_the_orig_and_debian_tarballs_are_unpacked_into_one_tree(tmp_path):
    tarball(tmp_path / "hello_1.0.orig.tar.xz", {"hello-1.0/src/hello.c": b"int main;", "hello-1.0/COPYING": b"MIT"})
    tarball(tmp_path / "hello_1.0.orig-docs.tar.xz", {"docs-1.0/guide.txt": b"guide"})
    tarball(tmp_path / "hello_1.0-1.debian.tar.xz", {"debian/copyright": b"Format: x\n"})
    (tmp_path / "hello_1.0-1.dsc").write_text("Version: 1.0-1\n")

    _unpack_with_tar(tmp_path / "hello_1.0-1.dsc", tmp_path / "tree")

    assert (tmp_path / "tree/src/hello.c").read_bytes() == b"int main;"
    assert (tmp_path / "tree/docs/guide.txt").read_bytes() == b"guide"
    assert (tmp_path / "tree/debian/copyright").exists()


def test_the_commit_keeps_files_upstreams_gitignore_names_and_drops_nested_git_folders(tmp_path):
    (tmp_path / ".gitignore").write_text("configure\n")
    (tmp_path / "configure").write_text("#! /bin/sh\n")
    (tmp_path / "vendor/.git").mkdir(parents=True)
    (tmp_path / "vendor/.git/HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "vendor/lib.c").write_text("int x;\n")

    commit = tree_commit(tmp_path, message="upstream")

    assert tree_paths(tmp_path) == [".gitignore", "configure", "vendor/lib.c"]
    assert (
        subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()
        == commit
    )
