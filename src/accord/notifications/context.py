from django.utils.functional import SimpleLazyObject

from accord.notifications.queries import unread_count_for


def unread_count(request) -> dict:
    """``unread_notifications`` for the bell in the top bar: one COUNT, signed-in users only.

    Lazy, so a template that never shows the bell never runs the query.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count_for(user=user))}
