"""Every API error is JSON {"code", "detail"}: a stable code for programs, a sentence for people."""

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
from rest_framework.views import exception_handler

from governance.exceptions import GovernanceError
from governance.limits import LARGEST_BODY_BYTES


def api_exception_handler(exception, context):
    if isinstance(exception, GovernanceError):
        from rest_framework.exceptions import ValidationError

        exception = ValidationError(str(exception), code=exception.code)
    response = exception_handler(exception, context)
    if response is None:
        return None
    detail = response.data
    code = getattr(exception, "default_code", "error")
    if hasattr(exception, "get_codes"):
        codes = exception.get_codes()
        code = codes if isinstance(codes, str) else code
    if isinstance(detail, dict) and set(detail) == {"detail"}:
        detail = detail["detail"]
    if not isinstance(detail, str):
        # Field errors: one sentence per field, so a client can show them as they are.
        detail = "; ".join(
            f"{field}: {' '.join(str(message) for message in messages)}"
            if isinstance(messages, list)
            else f"{field}: {messages}"
            for field, messages in (detail.items() if isinstance(detail, dict) else enumerate(detail))
        )
    response.data = {"code": str(code), "detail": str(detail)}
    return response


# Django's own error answers (handler400/403/404/500 in governance/urls.py): JSON under /api/, so a caller of the
# API never gets an HTML page, whatever raised the error (an unknown URL, middleware, an exception a view did
# not expect); the usual pages everywhere else.


def _api_path(request) -> bool:
    return request.path.startswith("/api/")


def _json_error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail}, status=status)


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if not _api_path(request):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return _json_error(413, "too_large", f"The body is larger than {LARGEST_BODY_BYTES:,} bytes.")
    return _json_error(400, "bad_request", "The request could not be read.")


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if not _api_path(request):
        return defaults.permission_denied(request, exception, template_name)
    return _json_error(403, "permission_denied", "You may not do this.")


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if not _api_path(request):
        return defaults.page_not_found(request, exception, template_name)
    return _json_error(404, "not_found", "No such endpoint: /api/schema/ lists them.")


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if not _api_path(request):
        return defaults.server_error(request, template_name)
    return _json_error(500, "server_error", "The server failed to answer; the error is logged. Try again later.")
