"""Every spelling people paste of a repository gives its one identity, or a clear refusal."""

import pytest

from governance.exceptions import GovernanceError
from governance.identity import (
    MAX_INPUT_LENGTH,
    RepositoryParseError,
    canonical_repo,
    namespace_chain,
    parse_namespace,
    parse_repository,
)

REQUESTS = "github.com/psf/requests"

ACCEPTED = [
    # GitHub, as browsers, git remotes and package files spell it
    ("https://github.com/psf/requests", REQUESTS),
    ("https://github.com/Psf/Requests.git", REQUESTS),
    ("http://github.com/psf/requests", REQUESTS),
    ("https://www.github.com/psf/requests/", REQUESTS),
    ("HTTPS://WWW.GITHUB.COM/PSF/REQUESTS.GIT", REQUESTS),
    ("https://github.com/psf/requests.git/", REQUESTS),
    ("github.com/psf/requests", REQUESTS),
    ("www.github.com/psf/requests", REQUESTS),
    ("GitHub.com/PSF/Requests", REQUESTS),
    ("//github.com/psf/requests", REQUESTS),
    ("  https://github.com/psf/requests \n", REQUESTS),
    ("git@github.com:psf/requests.git", REQUESTS),
    ("git@github.com:psf/requests", REQUESTS),
    ("git@github.com:/psf/requests.git", REQUESTS),
    ("github.com:psf/requests.git", REQUESTS),
    ("ssh://git@github.com/psf/requests.git", REQUESTS),
    ("ssh://git@github.com:22/psf/requests", REQUESTS),
    ("git+ssh://git@github.com/psf/requests.git", REQUESTS),
    ("ssh+git://git@github.com/psf/requests", REQUESTS),
    ("git://github.com/psf/requests.git", REQUESTS),
    ("git+https://github.com/psf/requests.git", REQUESTS),
    ("git+https://github.com/psf/requests.git@v2.32.3#egg=requests", REQUESTS),
    # pages inside the repository
    ("https://github.com/psf/requests/tree/main/src/requests", REQUESTS),
    ("https://github.com/psf/requests/blob/main/README.md", REQUESTS),
    ("https://github.com/psf/requests/issues", REQUESTS),
    ("https://github.com/psf/requests/pulls", REQUESTS),
    ("https://github.com/psf/requests/pull/6710/files", REQUESTS),
    ("https://github.com/psf/requests?tab=readme-ov-file", REQUESTS),
    ("https://github.com/psf/requests#readme", REQUESTS),
    ("https://github.com/psf/requests/blob/main/docs/index.rst#L10-L20", REQUESTS),
    ("https://raw.githubusercontent.com/psf/requests/main/README.md", REQUESTS),
    ("raw.githubusercontent.com/psf/requests/main/README.md", REQUESTS),
    # The Stack v2's repo_name: owner/name on github.com, original case
    ("psf/requests", REQUESTS),
    ("PSF/Requests", REQUESTS),
    ("psf/requests.git", REQUESTS),
    ("Microsoft/vscode-python", "github.com/microsoft/vscode-python"),
    ("ethereum/go-ethereum", "github.com/ethereum/go-ethereum"),
    ("user/dotted.name_with-all", "github.com/user/dotted.name_with-all"),
    # other owner/name forges
    (
        "https://bitbucket.org/Atlassian/Python-Bitbucket/src/master/README.md",
        "bitbucket.org/atlassian/python-bitbucket",
    ),
    ("git@bitbucket.org:atlassian/python-bitbucket.git", "bitbucket.org/atlassian/python-bitbucket"),
    ("https://codeberg.org/Forgejo/forgejo/src/branch/forgejo", "codeberg.org/forgejo/forgejo"),
    ("https://gitea.com/gitea/tea/releases", "gitea.com/gitea/tea"),
    ("https://git.sr.ht/~sircmpwn/scdoc", "git.sr.ht/~sircmpwn/scdoc"),
    ("https://git.sr.ht/~sircmpwn/scdoc/tree/master/item/README.md", "git.sr.ht/~sircmpwn/scdoc"),
    ("git@git.sr.ht:~sircmpwn/scdoc", "git.sr.ht/~sircmpwn/scdoc"),
    ("https://git.sr.ht/~SirCmpwn/scdoc", "git.sr.ht/~SirCmpwn/scdoc"),
    # GitLab and its nested groups
    ("https://gitlab.com/gitlab-org/gitlab", "gitlab.com/gitlab-org/gitlab"),
    ("https://gitlab.com/gitlab-org/gitlab/-/tree/master/app", "gitlab.com/gitlab-org/gitlab"),
    ("https://gitlab.com/Gitlab-Org/Gitlab-Runner.git", "gitlab.com/gitlab-org/gitlab-runner"),
    ("https://gitlab.com/group/sub/project", "gitlab.com/group/sub/project"),
    ("https://gitlab.com/group/sub/project/-/blob/main/README.md", "gitlab.com/group/sub/project"),
    ("git@gitlab.com:group/sub/project.git", "gitlab.com/group/sub/project"),
    ("https://gitlab.com/g/sub/deeper/p/-/merge_requests/1", "gitlab.com/g/sub/deeper/p"),
    # self-hosted: the path keeps its case
    ("https://gitlab.gnome.org/GNOME/gtk", "gitlab.gnome.org/GNOME/gtk"),
    ("https://gitlab.gnome.org/GNOME/gtk/-/tree/main/gdk", "gitlab.gnome.org/GNOME/gtk"),
    (
        "https://salsa.debian.org/Python-Team/packages/Requests.git",
        "salsa.debian.org/Python-Team/packages/Requests",
    ),
    ("https://git.example.org:8443/Team/Tool.git", "git.example.org:8443/Team/Tool"),
    ("https://git.example.org:443/Team/Tool.git", "git.example.org/Team/Tool"),
    ("ssh://git@git.example.org:2222/Team/Tool.git", "git.example.org/Team/Tool"),
    ("huggingface.co/bigcode/starcoder2", "huggingface.co/bigcode/starcoder2"),
    ("http://127.0.0.1:8123/owner/repo.git", "127.0.0.1:8123/owner/repo"),
    ("http://localhost:3000/Owner/Repo", "localhost:3000/Owner/Repo"),
    ("localhost:3000/owner/repo", "localhost:3000/owner/repo"),
    ("http://[::1]:8080/owner/repo", "[::1]:8080/owner/repo"),
    # local repositories
    ("file:///srv/git/requests.git", "file:///srv/git/requests.git"),
    ("file:///srv/git/Requests/", "file:///srv/git/Requests"),
    ("file://localhost/srv/git/requests", "file:///srv/git/requests"),
    ("FILE:///tmp/repo", "file:///tmp/repo"),
]

REFUSED = [
    ("", "is empty"),
    ("   \n", "is empty"),
    ("https://user:secret@github.com/psf/requests", "contains credentials"),
    ("https://ghp_0123456789abcdef@github.com/psf/requests", "contains credentials"),
    ("ssh://git:secret@github.com/psf/requests", "contains credentials"),
    ("oauth2:token@gitlab.com/group/project", "contains credentials"),
    ("ghp_0123456789abcdef@github.com/psf/requests", "contains credentials"),
    ("ftp://example.org/psf/requests", "is not a git URL (ftp:)"),
    ("mailto:owner@example.org", "is not a git URL (mailto:)"),
    ("javascript:alert(1)", "is not a git URL (javascript:)"),
    ("data:text/html,<script>alert(1)</script>", "is not a git URL (data:)"),
    ("https:github.com/psf/requests", "is not a complete URL"),
    ("github.com/psf/\x00requests", "control character"),
    ("https://github.com/psf/requests\nhttps://github.com/psf/black", "control character"),
    ("github.com/psf/re\tquests", "control character"),
    ("github.com/psf/re quests", "contains a space"),
    ("https://github.com/" + "a" * MAX_INPUT_LENGTH, "longer than 1000 characters"),
    ("https://github.com/psf", "names an owner, not a repository"),
    ("psf", "names an owner, not a repository"),
    ("https://gitlab.com/group", "opt out the whole namespace"),
    ("https://github.com", "names a host, not a repository"),
    ("https://github.com/orgs/psf", "is a GitHub page, not a repository"),
    ("https://github.com/settings/profile", "is a GitHub page, not a repository"),
    ("https://github.com/topics/python", "is a GitHub page, not a repository"),
    ("github.com/psf/../requests", "'..' segment"),
    ("https://gitlab.com/group/./project", "'..' segment"),
    ("/tmp/x", "use file:///tmp/x"),
    ("file://tmp/x", "use file:///tmp/x"),
    ("file://otherhost/srv/repo", "names another machine"),
    ("file:tmp/x", "file:///absolute/path"),
    ("file:///", "names no repository"),
    ("file:///srv/../etc", "'..' segment"),
    ("https://github_com/psf/requests", "does not name a host"),
    ("https://intranet/psf/requests", "does not name a host"),
    ("https://999.1.1.1/owner/repo", "does not name a host"),
    ("https://github.com:99999/psf/requests", "invalid port"),
    ("https://github.com/psf/re%20quests", "use only letters"),
    ("https://gitlab.com/group/pro@ject", "use only letters"),
    ("https://github.com/~psf/requests", "use only letters"),
    ("https://git.sr.ht/sircmpwn/scdoc", "without '~'"),
    ("a/b/c", "has no host"),
    ("github.com/psf/.git", "no repository name"),
    ("https://gitlab.example.org/" + "a" * 256 + "/b", "over 255 characters"),
]


@pytest.mark.parametrize(("spelling", "canonical"), ACCEPTED)
def test_every_spelling_gives_the_canonical_identity(spelling, canonical):
    assert canonical_repo(spelling) == canonical


@pytest.mark.parametrize(("spelling", "canonical"), ACCEPTED)
def test_parsing_a_canonical_returns_it_unchanged(spelling, canonical):
    assert canonical_repo(canonical) == canonical


@pytest.mark.parametrize(("text", "fragment"), REFUSED)
def test_what_is_not_a_repository_is_refused_with_a_reason(text, fragment):
    with pytest.raises(RepositoryParseError) as refused:
        parse_repository(text)
    assert fragment in str(refused.value)


def test_refusals_are_governance_errors_with_a_stable_code():
    with pytest.raises(GovernanceError) as refused:
        parse_repository("psf")
    assert refused.value.code == "not_a_repository"


def test_scp_style_url_gives_the_same_identity_as_https():
    scp = parse_repository("git@github.com:psf/requests.git")
    assert scp == parse_repository("https://github.com/psf/requests")


def test_refusal_starts_with_the_quoted_input():
    with pytest.raises(RepositoryParseError) as refused:
        parse_repository("ftp://x.org/a/b")
    assert str(refused.value) == (
        "'ftp://x.org/a/b' is not a git URL (ftp:): use https://, ssh:// or git@host:owner/name"
    )


def test_refusal_truncates_a_long_input():
    with pytest.raises(RepositoryParseError) as refused:
        parse_repository("https://github.com/psf/" + "x" * 300 + "%")
    message = str(refused.value)
    assert message.startswith("'https://github.com/psf/xxx")
    assert "…'" in message
    assert len(message) < 250


@pytest.mark.parametrize(
    "text",
    [
        "https://user:hunter2@github.com/psf/requests",
        "https://hunter2@github.com/psf/requests",
        "hunter2:x-oauth-basic@github.com/psf/requests",
        "ssh://git:hunter2@github.com/psf/requests",
    ],
)
def test_credentials_are_never_repeated_in_the_message(text):
    with pytest.raises(RepositoryParseError) as refused:
        parse_repository(text)
    assert "credentials" in str(refused.value)
    assert "hunter2" not in str(refused.value)


def test_a_control_character_is_shown_escaped_in_the_message():
    with pytest.raises(RepositoryParseError) as refused:
        parse_repository("psf/requests\x1b[2J")
    assert "\x1b" not in str(refused.value)


def test_text_that_is_not_a_string_is_refused():
    with pytest.raises(RepositoryParseError):
        parse_repository(None)


@pytest.mark.parametrize(
    ("spelling", "clone_url", "namespace", "name"),
    [
        ("git@github.com:Psf/Requests", "https://github.com/psf/requests.git", "github.com/psf", "requests"),
        (
            "http://127.0.0.1:8123/owner/repo.git",
            "http://127.0.0.1:8123/owner/repo.git",
            "127.0.0.1:8123/owner",
            "repo",
        ),
        (
            "https://git.example.org:8443/Team/Tool",
            "https://git.example.org:8443/Team/Tool.git",
            "git.example.org:8443/Team",
            "Tool",
        ),
        (
            "ssh://git@git.example.org:2222/Team/Tool.git",
            "ssh://git@git.example.org:2222/Team/Tool.git",
            "git.example.org/Team",
            "Tool",
        ),
        (
            "http://github.com/psf/requests",
            "https://github.com/psf/requests.git",
            "github.com/psf",
            "requests",
        ),
        (
            "https://gitlab.com/group/sub/project/-/tree/main",
            "https://gitlab.com/group/sub/project.git",
            "gitlab.com/group/sub",
            "project",
        ),
        # sourcehut answers 404 to clone URLs ending in .git
        ("git.sr.ht/~sircmpwn/scdoc", "https://git.sr.ht/~sircmpwn/scdoc", "git.sr.ht/~sircmpwn", "scdoc"),
        ("file:///srv/git/tool.git/", "file:///srv/git/tool.git", "file:///srv/git", "tool.git"),
    ],
)
def test_clone_url_namespace_and_name(spelling, clone_url, namespace, name):
    ref = parse_repository(spelling)
    assert (ref.clone_url, ref.namespace, ref.name) == (clone_url, namespace, name)


def test_local_repository_has_the_file_host():
    ref = parse_repository("file:///srv/git/Tool.git")
    assert (ref.host, ref.path) == ("file", "srv/git/Tool.git")


@pytest.mark.parametrize(
    ("text", "namespace"),
    [
        ("psf", "github.com/psf"),
        ("PSF", "github.com/psf"),
        ("github.com/psf", "github.com/psf"),
        ("https://github.com/psf/", "github.com/psf"),
        ("https://www.github.com/Psf?tab=repositories", "github.com/psf"),
        ("https://github.com/orgs/psf/repositories", "github.com/psf"),
        ("git@github.com:psf", "github.com/psf"),
        ("gitlab.com/group/sub", "gitlab.com/group/sub"),
        ("https://gitlab.com/Group/Sub/-/issues", "gitlab.com/group/sub"),
        ("https://git.sr.ht/~sircmpwn/", "git.sr.ht/~sircmpwn"),
        ("https://gitlab.gnome.org/GNOME", "gitlab.gnome.org/GNOME"),
        ("file:///srv/git", "file:///srv/git"),
    ],
)
def test_namespace_spellings_give_the_canonical_namespace(text, namespace):
    assert parse_namespace(text) == namespace
    assert parse_namespace(namespace) == namespace


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("https://user:pw@github.com/psf", "contains credentials"),
        ("github.com/psf/requests", "names a repository, not an owner: paste just github.com/psf"),
        ("psf/requests", "names a repository, not an owner"),
        ("github.com", "names a host, not an owner"),
        ("https://github.com/settings", "is a GitHub page"),
        ("ftp://example.org/psf", "is not a git URL (ftp:)"),
        ("", "is empty"),
        ("ps f", "contains a space"),
        ("git.sr.ht/sircmpwn", "without '~'"),
        ("github.com/../psf", "'..' segment"),
    ],
)
def test_what_is_not_a_namespace_is_refused_with_a_reason(text, fragment):
    with pytest.raises(RepositoryParseError) as refused:
        parse_namespace(text)
    assert fragment in str(refused.value)


@pytest.mark.parametrize("spelling", ["psf/requests", "https://gitlab.com/a/b/c/-/tree/x", "file:///srv/git/x.git"])
def test_a_repository_namespace_parses_as_a_namespace(spelling):
    namespace = parse_repository(spelling).namespace
    assert parse_namespace(namespace) == namespace


@pytest.mark.parametrize(
    ("namespace", "chain"),
    [
        ("github.com/psf", ["github.com/psf"]),
        ("gitlab.com/group/sub/team", ["gitlab.com/group/sub/team", "gitlab.com/group/sub", "gitlab.com/group"]),
    ],
)
def test_a_namespace_is_covered_by_itself_and_every_group_above_it(namespace, chain):
    assert namespace_chain(namespace) == chain
