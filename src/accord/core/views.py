"""Sign-in, sign-out and the user's own profile page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LogoutView
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accord.core.queries import login_lockout_seconds
from accord.core.services import login_failure_record, login_failures_clear


def client_address(request) -> str:
    # Behind a proxy, set it to pass the client's address as REMOTE_ADDR (see docs/deploy).
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    form = AuthenticationForm(request, data=request.POST or None)
    locked_for = 0
    status = 200
    if request.method == "POST":
        username = request.POST.get("username", "")
        address = client_address(request)
        locked_for = login_lockout_seconds(username=username, ip_address=address)
        if locked_for:
            status = 429
        elif form.is_valid():
            login_failures_clear(username=username, ip_address=address)
            auth_login(request, form.get_user())
            return redirect(_safe_next(request))
        else:
            login_failure_record(username=username, ip_address=address)
            locked_for = login_lockout_seconds(username=username, ip_address=address)
            status = 429 if locked_for else 200
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "locked_minutes": -(-locked_for // 60) if locked_for else 0,
    }
    return render(request, "core/login.html", context, status=status)


logout_view = LogoutView.as_view()
