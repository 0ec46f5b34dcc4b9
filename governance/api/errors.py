"""Every API error is JSON {"code", "detail"}: a stable code for programs, a sentence for people."""

from rest_framework.views import exception_handler

from governance.exceptions import GovernanceError


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
