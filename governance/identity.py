"""Repository identity for the portal: the pipelines' client's rules (`exclusions.identity`), with its refusals
raised as the portal's own error type, so that views, the API and commands answer them like any other.

The rules live in one place, the client, because a pipeline must reduce The Stack's `repo_name` to exactly the
canonical name the portal published."""

import functools

from exclusions import identity as _rules
from exclusions.identity import (  # noqa: F401 (re-exported: the portal's callers import them from here)
    FORGE_HOSTS,
    GITHUB_NOT_OWNERS,
    LOCAL_CANONICAL_PREFIX,
    MAX_INPUT_LENGTH,
    RepositoryRef,
    namespace_chain,
    without_credentials,
)
from governance.exceptions import GovernanceError


class RepositoryParseError(GovernanceError):
    """Text that names no repository (or namespace); the message says what to paste."""

    code = "not_a_repository"


def _refusals_as_portal_errors(parse):
    @functools.wraps(parse)
    def parse_or_refuse(text):
        try:
            return parse(text)
        except _rules.RepositoryParseError as error:
            raise RepositoryParseError(str(error)) from None

    return parse_or_refuse


parse_repository = _refusals_as_portal_errors(_rules.parse_repository)
canonical_and_namespace = _refusals_as_portal_errors(_rules.canonical_and_namespace)
canonical_repo = _refusals_as_portal_errors(_rules.canonical_repo)
parse_namespace = _refusals_as_portal_errors(_rules.parse_namespace)
