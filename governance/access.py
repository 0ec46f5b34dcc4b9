"""Who may open the maintainers' pages."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse


def any_permission_required(*permissions: str, refusal: str):
    """Anonymous visitors go to the login page; signed-in people with none of the permissions get 403 (`refusal`)."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            if not any(request.user.has_perm(permission) for permission in permissions):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return checked

    return decorator
