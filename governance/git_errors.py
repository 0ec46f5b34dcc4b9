"""What git and the fetch policy raise: apart from governance/git.py, so that the fetch policy, which git.py
consults before every fetch, can raise them without importing git.py back."""

from governance.exceptions import GovernanceError


class GitError(GovernanceError):
    code = "git_failed"


class GitUnreachable(GitError):
    """The host did not answer, or answered with a server error: worth retrying later."""

    code = "unreachable"


class GitCommandFailed(GitError):
    """git exited with an error; `stderr` keeps all it said, for callers that tell failures apart."""

    def __init__(self, message: str, *, stderr: str):
        super().__init__(message)
        self.stderr = stderr


class FetchRefused(GitError):
    """The fetch policy (governance/fetch_policy.py) does not allow this URL: nothing was fetched, and
    trying again soon changes nothing."""

    code = "fetch_refused"


class GitTimedOut(GitError):
    """git ran past its time limit and was stopped, together with every process it started."""
