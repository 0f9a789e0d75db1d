"""Sending handoff notices through the notifications app (in-app, email, outbound event).

The handoff app decides *once* who is told what (the sweep's claims and the HandoffEvent
ledger make each warning and breach happen exactly once); delivery belongs to
``accord.notifications.services.notify``. Until that module is installed, notices are only
logged, so the SLA clock keeps working on its own.
"""

from __future__ import annotations

import logging

logger = logging.getLogger("accord.handoff")


def send_notice(*, recipients, kind: str, title: str, body: str = "", url: str = "") -> None:
    recipients = [user for user in recipients if user is not None and user.is_active]
    if not recipients:
        return
    try:
        from accord.notifications.services import notify
    except ImportError:
        logger.info("notice %s to %s: %s", kind, ", ".join(u.username for u in recipients), title)
        return
    notify(recipients=recipients, kind=kind, title=title, body=body, url=url)
