from __future__ import annotations

from django.db.models import QuerySet

from accord.notifications.models import DeliveryStatus, Notification, WebhookDelivery, WebhookSubscription


def unread_count_for(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    """A user's own notifications, newest first (the only way to reach them)."""
    rows = Notification.objects.filter(recipient=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-id")


def subscriptions_with_stats() -> QuerySet[WebhookSubscription]:
    from django.db.models import Count, Q

    return WebhookSubscription.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)),
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    ).order_by("url", "id")


def recent_deliveries(*, limit: int = 20) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.select_related("event", "subscription").order_by("-created_at", "-id")[:limit]
