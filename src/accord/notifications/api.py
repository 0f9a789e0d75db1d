from datetime import datetime

from ninja import Query, Router, Schema

from accord.core.permissions import Perm, require_perm
from accord.core.schemas import PageParams, page, page_of
from accord.notifications.queries import notifications_for
from accord.notifications.services import notification_mark_read, notifications_mark_all_read

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class MarkedOut(Schema):
    marked: int


@router.get("", response=page_of(NotificationOut), summary="Your notifications, newest first")
def notifications_list(request, paging: Query[PageParams], unread: bool = False):
    """Paginated with ``limit`` and ``offset``; ``unread=true`` keeps only unread ones."""
    require_perm(request.user, Perm.VIEW_RECORDS)
    return page(notifications_for(user=request.user, unread_only=unread), paging)


@router.post("/{int:notification_id}/read", response=NotificationOut, summary="Mark one of your notifications read")
def notification_read(request, notification_id: int):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return notification_mark_read(user=request.user, notification_id=notification_id)


@router.post("/read-all", response=MarkedOut, summary="Mark all your notifications read")
def notifications_read_all(request):
    require_perm(request.user, Perm.VIEW_RECORDS)
    return {"marked": notifications_mark_all_read(user=request.user)}
