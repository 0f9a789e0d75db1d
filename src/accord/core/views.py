"""Sign-in, sign-out and the user's own profile page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LogoutView
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accord.core.errors import ValidationFailed
from accord.core.forms import add_service_errors
from accord.core.permissions import Perm, require_perm
from accord.core.queries import api_tokens_of, login_lockout_seconds
from accord.core.services import api_token_create, api_token_revoke, login_failure_record, login_failures_clear


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


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)


@login_required
def me(request):
    """The signed-in user's profile and personal API tokens (raw value shown once)."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    form = TokenForm(request.POST or None)
    context = {"form": form}
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                token, raw = api_token_create(user=request.user, name=form.cleaned_data["name"])
            except ValidationFailed as failure:
                add_service_errors(form, failure)
            else:
                context.update(new_token=raw, new_token_name=token.name)
        if form.errors:
            status = 400
    context["page"] = Paginator(api_tokens_of(request.user), 20).get_page(request.GET.get("page"))
    response = render(request, "core/me.html", context, status=status)
    response["Cache-Control"] = "no-store"  # the page may carry a raw token once
    return response


@login_required
@require_POST
def api_token_revoke_view(request, token_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    token = get_object_or_404(api_tokens_of(request.user), pk=token_id)  # only one's own tokens
    api_token_revoke(token=token)
    messages.success(request, f"Revoked {token.name}.")
    return redirect("me")
