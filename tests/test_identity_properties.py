"""Generated spellings: whatever the text, it parses to a stable identity or is refused with a parse error."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from exclusions.identity import (
    RepositoryParseError,
    canonical_repo,
    parse_namespace,
    parse_repository,
)

# Names as forges allow them: never "." or "..", never a trailing ".git".
segment = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True).filter(
    lambda name: not name.lower().endswith(".git")
)
GITHUB_PAGES = {"orgs", "organizations", "users", "settings", "topics", "search", "new"}
GITHUB_PAGES |= {"features", "marketplace", "explore", "sponsors", "login", "about"}
GITHUB_PAGES |= {"pricing", "collections", "trending", "notifications", "apps"}
github_owner = segment.filter(lambda owner: owner.lower() not in GITHUB_PAGES)
canonicals = st.one_of(
    st.builds(lambda o, n: f"github.com/{o}/{n}".lower(), github_owner, segment),
    st.builds(lambda path: "gitlab.com/" + "/".join(path).lower(), st.lists(segment, min_size=2, max_size=4)),
    st.builds(lambda path: "git.example.org/" + "/".join(path), st.lists(segment, min_size=2, max_size=4)),
    st.builds(lambda o, n: f"git.sr.ht/~{o}/{n}", segment, segment),
    st.builds(lambda path: "file:///" + "/".join(path), st.lists(segment | st.just("x.git"), min_size=1, max_size=5)),
)


@given(canonicals)
def test_parsing_a_generated_canonical_returns_it_unchanged(canonical):
    assert canonical_repo(canonical) == canonical


def _spellings(host, owner, name):
    return [
        f"https://{host}/{owner}/{name}",
        f"https://{host}/{owner.upper()}/{name.upper()}.git",
        f"https://{host}/{owner.swapcase()}/{name.swapcase()}.GIT/",
        f"http://www.{host}/{owner}/{name}/",
        f"HTTPS://WWW.{host.upper()}/{owner}/{name}",
        f"{host}/{owner}/{name}",
        f"git@{host}:{owner}/{name}.git",
        f"ssh://git@{host}:22/{owner}/{name}",
        f"git://{host}/{owner}/{name}.git",
    ]


@given(st.sampled_from(["github.com", "gitlab.com", "codeberg.org", "bitbucket.org"]), github_owner, segment)
def test_case_suffix_www_slash_and_scheme_variants_give_one_identity(host, owner, name):
    identities = {canonical_repo(spelling) for spelling in _spellings(host, owner, name)}
    assert identities == {f"{host}/{owner}/{name}".lower()}


@given(st.text())
def test_arbitrary_text_is_parsed_or_refused_with_a_parse_error(text):
    try:
        ref = parse_repository(text)
    except RepositoryParseError:
        return
    assert canonical_repo(ref.canonical) == ref.canonical


url_alphabet = st.sampled_from(
    list("aAgG.:/@~-_?#[]%+ 09") + ["git", "github.com", "www.", "https://", "file://", "-", ".."]
)


@given(st.lists(url_alphabet, max_size=30).map("".join))
def test_url_like_text_is_parsed_or_refused_and_accepted_canonicals_are_stable(text):
    for parse in (canonical_repo, parse_namespace):
        try:
            parsed = parse(text)
        except RepositoryParseError:
            continue
        assert parse(parsed) == parsed


plain_alphabet = st.sampled_from(list("aZ09_-.") + ["/", "github.com/", "https://", ".git", "GIT", "orgs", "localhost"])


@settings(max_examples=500)
@given(st.lists(plain_alphabet, max_size=12).map("".join))
@example("owner/name.git")
@example("owner/name.Git.git")
@example("orgs/name")
@example("Localhost/name")
@example("owner/..")
@example("owner.io/name")
@example("https://github.com/owner/name.git")
def test_the_fast_path_for_plain_github_names_agrees_with_the_full_parser(text):
    from exclusions.identity import _github_plain, _repository_parsed, canonical_and_namespace

    fast = _github_plain(text)
    try:
        full = _repository_parsed(text)
    except RepositoryParseError:
        assert fast is None
        with pytest.raises(RepositoryParseError):
            canonical_and_namespace(text)
        return
    assert fast is None or f"github.com/{'/'.join(fast)}" == full.canonical
    assert parse_repository(text) == full
    assert canonical_and_namespace(text) == (full.canonical, full.namespace)


@pytest.mark.parametrize(
    "text", ["github.com/Psf/Requests", "psf/requests", "https://github.com/psf/requests", "psf/requests.js"]
)
def test_plain_github_names_take_the_fast_path(text):
    from exclusions.identity import _github_plain

    assert _github_plain(text) is not None
    assert parse_repository(text) == parse_repository(f"https://github.com/{text.split('github.com/')[-1]}/")
