"""Sending handoff notices: in-app notification, a queued email each, one outbound event.

The handoff app decides *once* who is told what: the sweep's claims and the HandoffEvent
ledger (unique per handoff and notice) make each warning and breach happen exactly once.
``notify`` writes its rows and queues its emails in the caller's transaction, so a notice
is committed together with the claim that caused it, or not at all.
"""

from __future__ import annotations

from accord.notifications.services import notify


def send_notice(*, recipients, kind: str, title: str, body: str = "", url: str = "") -> None:
    recipients = [user for user in recipients if user is not None and user.is_active]
    if recipients:
        notify(recipients=recipients, kind=kind, title=title, body=body, url=url)
