"""Pipeline tokens in `Authorization: Bearer <token>` (or `API <token>`, as existing opt-out clients send)."""

from dataclasses import dataclass

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from governance.models import PipelineToken
from governance.tokens import pipeline_token_authenticate


@dataclass
class Pipeline:
    """The principal a pipeline token stands for."""

    token: PipelineToken
    is_authenticated: bool = True
    is_staff: bool = False

    @property
    def pk(self):
        return f"pipeline-{self.token.pk}"


class PipelineTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "api", "token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Bearer <token>'.")
        token = pipeline_token_authenticate(raw=header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("This token is unknown or revoked. Ask a maintainer for a new one.")
        return Pipeline(token=token), token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class HasPipelineToken(permissions.BasePermission):
    message = (
        "This endpoint needs a pipeline token: 'Authorization: Bearer <token>' "
        "(or 'API <token>'; a maintainer creates one with manage.py issue_token)."
    )

    def has_permission(self, request, view):
        return isinstance(request.user, Pipeline)


def token_covers(request, dataset) -> bool:
    return isinstance(request.user, Pipeline) and request.user.token.datasets.filter(pk=dataset.pk).exists()


class PipelineTokenScheme(OpenApiAuthenticationExtension):
    """Tells the OpenAPI schema how pipeline tokens are sent."""

    target_class = "releases.api.authentication.PipelineTokenAuthentication"
    name = "pipelineToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A pipeline token from manage.py issue_token"}
