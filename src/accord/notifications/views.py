from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.errors import ValidationFailed
from accord.core.permissions import Perm, require_perm
from accord.notifications.forms import WebhookSubscriptionForm
from accord.notifications.queries import notifications_for, recent_deliveries, subscriptions_with_stats
from accord.notifications.services import (
    notification_mark_read,
    notifications_mark_all_read,
    webhook_delivery_retry,
    webhook_subscription_create,
    webhook_subscription_delete,
)


@login_required
@require_GET
def inbox(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notifications_for(user=request.user, unread_only=unread_only), settings.ACCORD_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "notifications/inbox.html", {"page": page, "unread_only": unread_only})


def _back(request, fallback: str = "/notifications/"):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_POST
def mark_read(request, notification_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    notification_mark_read(user=request.user, notification_id=notification_id)
    return _back(request)


@login_required
@require_POST
def mark_all_read(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    count = notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back(request)


@login_required
@require_http_methods(["GET", "POST"])
def webhooks(request):
    require_perm(request.user, Perm.MANAGE_WEBHOOKS)
    form = WebhookSubscriptionForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = webhook_subscription_create(
                url=form.cleaned_data["url"],
                kinds=form.kind_list(),
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
        except ValidationFailed as refused:
            for field, message in refused.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            form = WebhookSubscriptionForm()
    context = {
        "form": form,
        "created": created,  # its secret is shown on this response only
        "subscriptions": subscriptions_with_stats(),
        "deliveries": recent_deliveries(limit=25),
    }
    return render(request, "notifications/webhooks.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def webhook_delete(request, subscription_id: int):
    require_perm(request.user, Perm.MANAGE_WEBHOOKS)
    webhook_subscription_delete(subscription_id=subscription_id)
    messages.success(request, "Webhook removed.")
    return redirect("notifications:webhooks")


@login_required
@require_POST
def delivery_retry(request, delivery_id: int):
    require_perm(request.user, Perm.MANAGE_WEBHOOKS)
    webhook_delivery_retry(delivery_id=delivery_id)
    messages.success(request, "Delivery queued again.")
    return redirect("notifications:webhooks")
