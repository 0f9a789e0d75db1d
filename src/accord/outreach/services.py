"""Writes for coordinated outreach: consent, the contact policy, segments, templates, sends."""

from __future__ import annotations

import hashlib
import smtplib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accord.campaigns.models import Channel, Touchpoint, TouchpointKind
from accord.core.clock import now
from accord.core.errors import ValidationFailed
from accord.core.models import Team
from accord.crm.models import Contact, ContactInterest
from accord.outreach.models import (
    ConsentEvent,
    ContactPolicy,
    ContactSubscription,
    EmailSend,
    EmailTemplate,
    PlannedOutreach,
    PromotionAllowance,
    RecipientStatus,
    Segment,
    SendRecipient,
    SendStatus,
    SubscriptionTopic,
    SuppressionReason,
)
from accord.outreach.policy import Verdict, audience_classify
from accord.outreach.rendering import email_render, placeholder_values, template_check
from accord.outreach.segments import segment_contacts, segment_definition_clean

UNSUBSCRIBE_SALT = "accord.outreach.unsubscribe"
TRACKING_SALT = "accord.outreach.tracking"
# An unsubscribe link works for a year: long enough for an old email, short enough to expire.
UNSUBSCRIBE_MAX_AGE = timedelta(days=365)
DELIVERY_BATCH = 200
MAX_DELIVERY_ATTEMPTS = 5
SENDING_LEASE = timedelta(minutes=10)


# --- consent ---------------------------------------------------------------------------


def contact_suppress(*, contact: Contact, reason: str, actor=None, note: str = "", at: datetime | None = None) -> bool:
    """Put the contact on the do-not-contact list. False when it already was."""
    if reason not in SuppressionReason.values:
        raise ValidationFailed.single("reason", f"must be one of {', '.join(SuppressionReason.values)}")
    moment = at or now()
    with transaction.atomic():
        changed = Contact.objects.filter(pk=contact.pk, do_not_contact=False).update(do_not_contact=True, updated_at=moment)
        if changed:
            ConsentEvent.objects.create(
                contact=contact, action=ConsentEvent.Action.SUPPRESSED, reason=reason, note=note[:500], actor=actor, at=moment
            )
    contact.do_not_contact = True
    return bool(changed)


def contact_unsuppress(*, contact: Contact, actor, note: str) -> bool:
    """Lift do-not-contact. Needs a note: someone must say why we may write again."""
    if not note.strip():
        raise ValidationFailed.single("note", "say why this person may be contacted again")
    last = ConsentEvent.objects.filter(contact=contact, action=ConsentEvent.Action.SUPPRESSED).first()
    if last and last.reason == SuppressionReason.ERASED:
        raise ValidationFailed.single("reason", "an erased contact cannot be contacted again")
    moment = now()
    with transaction.atomic():
        changed = Contact.objects.filter(pk=contact.pk, do_not_contact=True).update(do_not_contact=False, updated_at=moment)
        if changed:
            ConsentEvent.objects.create(
                contact=contact, action=ConsentEvent.Action.LIFTED, note=note.strip()[:500], actor=actor, at=moment
            )
    contact.do_not_contact = False
    return bool(changed)


def topic_opt_out(*, contact: Contact, topic: SubscriptionTopic, actor=None) -> bool:
    moment = now()
    with transaction.atomic():
        _, created = ContactSubscription.objects.get_or_create(
            contact=contact, topic=topic, defaults={"unsubscribed_at": moment}
        )
        if created:
            ConsentEvent.objects.create(
                contact=contact, action=ConsentEvent.Action.TOPIC_OPT_OUT, topic=topic, actor=actor, at=moment
            )
    return created


def topic_opt_in(*, contact: Contact, topic: SubscriptionTopic, actor) -> bool:
    with transaction.atomic():
        deleted, _ = ContactSubscription.objects.filter(contact=contact, topic=topic).delete()
        if deleted:
            ConsentEvent.objects.create(
                contact=contact, action=ConsentEvent.Action.TOPIC_OPT_IN, topic=topic, actor=actor, at=now()
            )
    return bool(deleted)


def unsubscribe_token(*, contact_id: int, topic_id: int | None) -> str:
    return signing.dumps({"c": contact_id, "t": topic_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, contact_id: int, topic_id: int | None) -> str:
    token = unsubscribe_token(contact_id=contact_id, topic_id=topic_id)
    return settings.SITE_URL.rstrip("/") + reverse("outreach_unsubscribe", args=[token])


def unsubscribe_token_read(token: str) -> tuple[Contact, SubscriptionTopic | None]:
    """The contact and topic a link names. A forged, altered or expired link raises ValidationFailed."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationFailed.single("token", "this unsubscribe link has expired") from None
    except signing.BadSignature:
        raise ValidationFailed.single("token", "this unsubscribe link is not valid") from None
    contact = Contact.objects.filter(pk=data.get("c")).first()
    if contact is None:
        raise ValidationFailed.single("token", "this unsubscribe link is not valid")
    topic = SubscriptionTopic.objects.filter(pk=data["t"]).first() if data.get("t") else None
    return contact, topic


def unsubscribe_by_token(*, token: str, everything: bool = False) -> Contact:
    """What the one-click link does: leave the email's topic, or everything."""
    contact, topic = unsubscribe_token_read(token)
    if topic is not None and not everything:
        topic_opt_out(contact=contact, topic=topic)
    else:
        contact_suppress(contact=contact, reason=SuppressionReason.UNSUBSCRIBED, note="one-click unsubscribe link")
    return contact


# --- the contact policy --------------------------------------------------------------------


def contact_policy_update(*, values: dict, actor) -> ContactPolicy:
    errors = {}
    clean = {}
    limits = {"max_promotions": (0, 50), "window_days": (1, 90), "quiet_days_after_meeting": (0, 30)}
    for name, (low, high) in limits.items():
        raw = values.get(name)
        try:
            number = int(str(raw).strip())
        except (TypeError, ValueError):
            errors[name] = "must be a whole number"
            continue
        if not low <= number <= high:
            errors[name] = f"must be between {low} and {high}"
            continue
        clean[name] = number
    for name in ("count_sales_touches", "pause_during_sales_cycle"):
        clean[name] = values.get(name) in (True, "on", "true", "1", 1)
    if errors:
        raise ValidationFailed(errors)
    # A new row per change keeps the history of the policy both teams work under.
    return ContactPolicy.objects.create(**clean, updated_by=actor, updated_at=now())


def promotion_allow(*, contact: Contact, actor) -> PromotionAllowance:
    if contact.owner_id and actor.pk != contact.owner_id and actor.role not in ("manager", "admin"):
        raise ValidationFailed.single("contact", "only the contact's owner or a manager may allow promotions")
    allowance, _ = PromotionAllowance.objects.update_or_create(
        contact=contact, defaults={"allowed_by": actor, "allowed_at": now()}
    )
    return allowance


def promotion_disallow(*, contact: Contact) -> None:
    PromotionAllowance.objects.filter(contact=contact).delete()


# --- segments and templates ------------------------------------------------------------------


def segment_save(*, name: str, definition: object, actor, description: str = "", segment: Segment | None = None) -> Segment:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "is required"
    elif len(name) > 120:
        errors["name"] = "is longer than 120 characters"
    elif Segment.objects.filter(name__iexact=name).exclude(pk=getattr(segment, "pk", None)).exists():
        errors["name"] = "another segment already has this name"
    try:
        clean = segment_definition_clean(definition)
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    moment = now()
    if segment is None:
        return Segment.objects.create(
            name=name,
            description=description[:300],
            definition=clean,
            owner=actor,
            team=actor.team,
            created_at=moment,
            updated_at=moment,
        )
    segment.name, segment.description, segment.definition, segment.updated_at = name, description[:300], clean, moment
    segment.save(update_fields=["name", "description", "definition", "updated_at"])
    return segment


def email_template_save(
    *, name: str, subject: str, body_text: str, body_html: str = "", actor, template: EmailTemplate | None = None
) -> EmailTemplate:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "is required"
    elif EmailTemplate.objects.filter(name__iexact=name).exclude(pk=getattr(template, "pk", None)).exists():
        errors["name"] = "another template already has this name"
    try:
        template_check(subject=subject or "", body_text=body_text or "", body_html=body_html or "")
    except ValidationFailed as failed:
        errors.update(failed.errors)
    if errors:
        raise ValidationFailed(errors)
    moment = now()
    if template is None:
        return EmailTemplate.objects.create(
            name=name, subject=subject, body_text=body_text, body_html=body_html or "", created_by=actor,
            created_at=moment, updated_at=moment,
        )
    template.name, template.subject, template.body_text, template.body_html = name, subject, body_text, body_html or ""
    template.updated_at = moment
    template.save(update_fields=["name", "subject", "body_text", "body_html", "updated_at"])
    return template


def planned_outreach_create(
    *, title: str, kind: str, starts_on: date, ends_on: date | None, actor, contact: Contact | None = None,
    segment: Segment | None = None,
) -> PlannedOutreach:
    errors = {}
    if not (title or "").strip():
        errors["title"] = "is required"
    if contact is None and segment is None:
        errors["contact"] = "name a contact or a segment"
    ends_on = ends_on or starts_on
    if ends_on < starts_on:
        errors["ends_on"] = "must not be before starts_on"
    if errors:
        raise ValidationFailed(errors)
    return PlannedOutreach.objects.create(
        title=title.strip()[:200], team=actor.team, kind=(kind or "email")[:24], contact=contact, segment=segment,
        starts_on=starts_on, ends_on=ends_on, created_by=actor, created_at=now(),
    )


# --- sends -------------------------------------------------------------------------------------


@dataclass
class SendPreview:
    audience: int = 0
    will_receive: int = 0
    held: int = 0
    suppressed: int = 0
    by_code: Counter = field(default_factory=Counter)
    # Contacts held because of something Sales did or plans: the collisions with the other team.
    sales_collisions: int = 0
    planned_collisions: list = field(default_factory=list)

    @property
    def reasons(self) -> list[tuple[str, int]]:
        # A list, not the Counter: templates look up ``.items`` as a key first, and a Counter answers 0.
        return sorted(self.by_code.items())


def email_send_create(
    *, name: str, segment: Segment, template: EmailTemplate, actor, scheduled_for: datetime | None = None,
    campaign=None, topic: SubscriptionTopic | None = None, promotional: bool = True, tracking: bool = False,
) -> EmailSend:
    if not (name or "").strip():
        raise ValidationFailed.single("name", "is required")
    return EmailSend.objects.create(
        name=name.strip()[:200], segment=segment, template=template, campaign=campaign, topic=topic,
        promotional=promotional, tracking=tracking, scheduled_for=scheduled_for, created_by=actor, created_at=now(),
    )


def email_send_preview(*, send: EmailSend, at: datetime | None = None) -> SendPreview:
    """Who would receive it, who is held by the policy or suppressed, and what collides."""
    moment = at or send.scheduled_for or now()
    decisions = audience_classify(
        contacts=segment_contacts(send.segment.definition), promotional=send.promotional,
        topic_id=send.topic_id, at=moment,
    )
    preview = SendPreview(audience=len(decisions))
    for decision in decisions:
        if decision.verdict == Verdict.SEND:
            preview.will_receive += 1
        elif decision.verdict == Verdict.HELD:
            preview.held += 1
            preview.by_code[decision.code] += 1
        else:
            preview.suppressed += 1
            preview.by_code[decision.code] += 1
    preview.sales_collisions = preview.by_code["meeting"] + preview.by_code["sales_cycle"]
    from accord.outreach.queries import planned_collisions_for_send

    preview.planned_collisions = planned_collisions_for_send(send=send, day=moment.date())
    return preview


def email_send_schedule(*, send: EmailSend, scheduled_for: datetime, actor) -> EmailSend:
    if send.status not in (SendStatus.DRAFT, SendStatus.SCHEDULED):
        raise ValidationFailed.single("status", f"a {send.get_status_display().lower()} send cannot be rescheduled")
    if scheduled_for < now() - timedelta(minutes=5):
        raise ValidationFailed.single("scheduled_for", "is in the past")
    updated = EmailSend.objects.filter(pk=send.pk, status__in=(SendStatus.DRAFT, SendStatus.SCHEDULED)).update(
        status=SendStatus.SCHEDULED, scheduled_for=scheduled_for
    )
    if not updated:
        raise ValidationFailed.single("status", "the send started meanwhile")
    send.refresh_from_db()
    return send


def email_send_cancel(*, send: EmailSend, actor) -> EmailSend:
    with transaction.atomic():
        updated = EmailSend.objects.filter(pk=send.pk).exclude(status__in=(SendStatus.DONE, SendStatus.CANCELLED)).update(
            status=SendStatus.CANCELLED, finished_at=now()
        )
        if not updated:
            raise ValidationFailed.single("status", "the send has already finished")
        # Messages already handed to the mail server stay sent; the rest never go.
        SendRecipient.objects.filter(send=send, status__in=(RecipientStatus.QUEUED, RecipientStatus.HELD)).update(
            status=RecipientStatus.FAILED, reason="send cancelled"
        )
    send.refresh_from_db()
    return send


def email_send_prepare(*, send: EmailSend, at: datetime | None = None) -> int:
    """Fix the audience: one recipient row per segment member, with its verdict and reason.

    Set-wise: one classification query, then inserts in batches. Running it again adds only
    contacts that joined the segment since (the unique constraint keeps it idempotent).
    """
    moment = at or now()
    decisions = audience_classify(
        contacts=segment_contacts(send.segment.definition), promotional=send.promotional,
        topic_id=send.topic_id, at=moment,
    )
    rows = [_recipient_values(send, decision, moment) for decision in decisions]
    with transaction.atomic():
        _insert_recipients(rows)
        EmailSend.objects.filter(pk=send.pk).update(prepared_at=moment, status=SendStatus.SENDING)
    send.status, send.prepared_at = SendStatus.SENDING, moment
    return len(rows)


_VERDICT_STATUS = {
    Verdict.SEND: RecipientStatus.QUEUED,
    Verdict.HELD: RecipientStatus.HELD,
    Verdict.SUPPRESSED: RecipientStatus.SUPPRESSED,
}
_RECIPIENT_COLUMNS = ("send_id", "contact_id", "status", "reason", "due_at", "attempts", "last_error", "message_id")


def _recipient_values(send: EmailSend, decision, moment: datetime) -> tuple:
    due = connection.ops.adapt_datetimefield_value(decision.retry_at or moment)
    return (
        send.pk, decision.contact_id, _VERDICT_STATUS[decision.verdict], decision.reason, due, 0, "",
        _message_id(send.pk, decision.contact_id),
    )


def _insert_recipients(rows: list[tuple]) -> None:
    # One prepared INSERT run over all rows (executemany): for 100,000 recipients the ORM's
    # per-object work costs more than the database does. ON CONFLICT keeps a repeated
    # preparation from adding anyone twice.
    table = SendRecipient._meta.db_table
    placeholders = ", ".join(["%s"] * len(_RECIPIENT_COLUMNS))
    statement = (
        f"INSERT INTO {table} ({', '.join(_RECIPIENT_COLUMNS)}) VALUES ({placeholders}) "
        "ON CONFLICT (send_id, contact_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 10000):
            cursor.executemany(statement, rows[start : start + 10000])


def _message_id(send_id: int, contact_id: int) -> str:
    # Deterministic, so a retried delivery carries the same Message-ID and receivers can drop a repeat.
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{send_id}:{contact_id}".encode()).hexdigest()[:24]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "accord.local"
    return f"<{send_id}.{contact_id}.{digest}@{domain}>"


@dataclass
class DeliveryReport:
    prepared: int = 0
    sent: int = 0
    held: int = 0
    suppressed: int = 0
    failed: int = 0
    bounced: int = 0
    retried: int = 0
    finished_sends: int = 0


def sends_deliver_due(*, at: datetime | None = None, batch_size: int = DELIVERY_BATCH, max_batches: int = 50) -> DeliveryReport:
    """The worker's step: prepare sends whose time has come, then deliver due recipients."""
    moment = at or now()
    report = DeliveryReport()
    # Recipients whose sender died mid-delivery go back to the queue with the same Message-ID.
    SendRecipient.objects.filter(status=RecipientStatus.SENDING, lease_until__lt=moment).update(
        status=RecipientStatus.QUEUED, lease_until=None
    )
    for send in EmailSend.objects.filter(status=SendStatus.SCHEDULED, scheduled_for__lte=moment):
        claimed = EmailSend.objects.filter(pk=send.pk, status=SendStatus.SCHEDULED).update(status=SendStatus.SENDING)
        if claimed:
            report.prepared += email_send_prepare(send=send, at=moment)
    for _ in range(max_batches):
        batch = _claim_batch(moment, batch_size)
        if not batch:
            break
        _deliver_batch(batch, moment, report)
    _finish_sends(moment, report)
    return report


def _claim_batch(moment: datetime, batch_size: int) -> list[SendRecipient]:
    candidates = list(
        SendRecipient.objects.filter(
            status__in=(RecipientStatus.QUEUED, RecipientStatus.HELD),
            due_at__lte=moment,
            send__status=SendStatus.SENDING,
        )
        .order_by("due_at", "id")
        .values_list("id", flat=True)[:batch_size]
    )
    if not candidates:
        return []
    token = now() + SENDING_LEASE
    # A conditional update is the claim: two workers may pick the same ids, only one flips them.
    with transaction.atomic():
        ids = list(
            SendRecipient.objects.select_for_update(skip_locked=True)
            .filter(id__in=candidates, status__in=(RecipientStatus.QUEUED, RecipientStatus.HELD))
            .values_list("id", flat=True)
        )
        SendRecipient.objects.filter(id__in=ids, status__in=(RecipientStatus.QUEUED, RecipientStatus.HELD)).update(
            status=RecipientStatus.SENDING, lease_until=token
        )
    return list(
        SendRecipient.objects.filter(id__in=ids, lease_until=token, status=RecipientStatus.SENDING)
        .select_related("send__template", "send__campaign", "contact__account", "contact__owner")
    )


def _deliver_batch(batch: list[SendRecipient], moment: datetime, report: DeliveryReport) -> None:
    # The policy is asked again at delivery: a rep may have called since the send was prepared.
    by_send: dict[int, list[SendRecipient]] = {}
    for recipient in batch:
        by_send.setdefault(recipient.send_id, []).append(recipient)
    interests: dict[int, list[str]] = {}
    for contact_id, name in ContactInterest.objects.filter(contact_id__in=[r.contact_id for r in batch]).order_by(
        "added_at", "name"
    ).values_list("contact_id", "name"):
        interests.setdefault(contact_id, []).append(name)
    to_send: list[SendRecipient] = []
    updates: list[SendRecipient] = []
    for send_id, recipients in by_send.items():
        send = recipients[0].send
        decisions = {
            d.contact_id: d
            for d in audience_classify(
                contacts=Contact.objects.filter(id__in=[r.contact_id for r in recipients]),
                promotional=send.promotional, topic_id=send.topic_id, at=moment,
            )
        }
        for recipient in recipients:
            decision = decisions.get(recipient.contact_id)
            if decision is None or decision.verdict == Verdict.SUPPRESSED:
                recipient.status, recipient.reason = RecipientStatus.SUPPRESSED, decision.reason if decision else "contact gone"
                report.suppressed += 1
                updates.append(recipient)
            elif decision.verdict == Verdict.HELD:
                recipient.status, recipient.reason, recipient.due_at = RecipientStatus.HELD, decision.reason, decision.retry_at
                report.held += 1
                updates.append(recipient)
            else:
                to_send.append(recipient)
    delivered: list[SendRecipient] = []
    connection = get_connection()
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        # The server is unreachable: every claimed message waits and tries again later.
        for recipient in to_send:
            recipient.attempts += 1
            _retry_later(recipient, f"{type(error).__name__}: {error}")
            recipient.lease_until = None
            report.retried += recipient.status == RecipientStatus.QUEUED
            report.failed += recipient.status == RecipientStatus.FAILED
        updates.extend(to_send)
        to_send = []
    try:
        for recipient in to_send:
            outcome = _send_one(connection, recipient, interests.get(recipient.contact_id, []))
            if outcome == "sent":
                recipient.status, recipient.sent_at, recipient.reason = RecipientStatus.SENT, moment, ""
                delivered.append(recipient)
                report.sent += 1
            elif outcome == "bounced":
                report.bounced += 1
            else:
                report.retried += recipient.status == RecipientStatus.QUEUED
                report.failed += recipient.status == RecipientStatus.FAILED
            recipient.lease_until = None
            updates.append(recipient)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - closing a broken SMTP session must not hide what was sent
            pass
    with transaction.atomic():
        SendRecipient.objects.bulk_update(
            updates, ["status", "reason", "due_at", "attempts", "last_error", "sent_at", "lease_until"], batch_size=500
        )
        Touchpoint.objects.bulk_create(
            [
                Touchpoint(
                    contact_id=r.contact_id, campaign=r.send.campaign, kind=TouchpointKind.EMAIL_SENT,
                    channel=Channel.EMAIL, team=Team.MARKETING, actor=r.send.created_by, occurred_at=moment,
                    subject=r.send.template.subject[:300], metadata={"send_id": r.send_id, "promotional": r.send.promotional},
                    dedupe_key=f"send:{r.send_id}:{r.contact_id}", created_at=moment,
                )
                for r in delivered
            ],
            batch_size=500,
            ignore_conflicts=True,
        )
        bounced = [r.contact_id for r in updates if r.status == RecipientStatus.BOUNCED]
        if bounced:
            _suppress_many(bounced, SuppressionReason.BOUNCED, "the mail server refused the address", moment)


def _send_one(connection, recipient: SendRecipient, interests: list[str]) -> str:
    send, contact = recipient.send, recipient.contact
    link = unsubscribe_url(contact_id=contact.pk, topic_id=send.topic_id)
    rendered = email_render(
        subject=send.template.subject, body_text=send.template.body_text, body_html=send.template.body_html,
        values=placeholder_values(contact=contact, interests=interests, unsubscribe_url=link),
    )
    html = rendered.html
    if send.tracking and html:
        from accord.outreach.tracking import tracked_html

        html = tracked_html(html, recipient_id=recipient.pk)
    message = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, to=[contact.email], connection=connection,
        headers={
            "Message-ID": recipient.message_id,
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    if html:
        message.attach_alternative(html, "text/html")
    recipient.attempts += 1
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as refused:
        codes = [code for code, _ in refused.recipients.values()]
        if codes and all(500 <= code < 600 for code in codes):
            recipient.status, recipient.last_error = RecipientStatus.BOUNCED, f"refused: {codes[0]}"
            recipient.reason = "the mail server refused the address"
            return "bounced"
        return _retry_later(recipient, f"refused: {codes}")
    except (smtplib.SMTPException, OSError) as error:
        return _retry_later(recipient, f"{type(error).__name__}: {error}"[:500])
    return "sent"


def _retry_later(recipient: SendRecipient, error: str) -> str:
    recipient.last_error = error[:500]
    if recipient.attempts >= MAX_DELIVERY_ATTEMPTS:
        recipient.status, recipient.reason = RecipientStatus.FAILED, f"gave up after {recipient.attempts} attempts"
        return "failed"
    # Exponential backoff: 2, 4, 8, 16 minutes.
    recipient.status = RecipientStatus.QUEUED
    recipient.due_at = now() + timedelta(minutes=2**recipient.attempts)
    recipient.reason = f"delivery failed, retrying (attempt {recipient.attempts})"
    return "retry"


def _suppress_many(contact_ids: list[int], reason: str, note: str, moment: datetime) -> None:
    fresh = list(Contact.objects.filter(id__in=contact_ids, do_not_contact=False).values_list("id", flat=True))
    Contact.objects.filter(id__in=fresh).update(do_not_contact=True, updated_at=moment)
    ConsentEvent.objects.bulk_create(
        [ConsentEvent(contact_id=cid, action=ConsentEvent.Action.SUPPRESSED, reason=reason, note=note, at=moment) for cid in fresh]
    )


def _finish_sends(moment: datetime, report: DeliveryReport) -> None:
    from django.db.models import Exists, OuterRef

    open_work = SendRecipient.objects.filter(
        send=OuterRef("pk"), status__in=(RecipientStatus.QUEUED, RecipientStatus.HELD, RecipientStatus.SENDING)
    )
    report.finished_sends = (
        EmailSend.objects.filter(status=SendStatus.SENDING, prepared_at__isnull=False)
        .exclude(Exists(open_work))
        .update(status=SendStatus.DONE, finished_at=moment)
    )


def bounce_record(*, message_id: str, permanent: bool = True, detail: str = "") -> SendRecipient:
    """A bounce reported after delivery (by the mail provider's webhook or a bounce mailbox)."""
    recipient = SendRecipient.objects.select_related("contact").filter(message_id=message_id.strip()).first()
    if recipient is None:
        raise ValidationFailed.single("message_id", "no message was sent with this Message-ID")
    if not permanent:
        return recipient
    moment = now()
    with transaction.atomic():
        SendRecipient.objects.filter(pk=recipient.pk).update(
            status=RecipientStatus.BOUNCED, last_error=detail[:500], reason="bounced after delivery"
        )
        _suppress_many([recipient.contact_id], SuppressionReason.BOUNCED, detail[:500] or "bounce reported", moment)
    recipient.refresh_from_db()
    return recipient


def tracking_record(*, recipient_id: int, kind: str, url: str = "") -> bool:
    """An open or a click, recorded once per recipient (and per link for clicks)."""
    recipient = SendRecipient.objects.select_related("send").filter(pk=recipient_id, status=RecipientStatus.SENT).first()
    if recipient is None or not recipient.send.tracking:
        return False
    moment = now()
    key_part = hashlib.sha256(url.encode()).hexdigest()[:16] if url else ""
    try:
        with transaction.atomic():
            Touchpoint.objects.create(
                contact_id=recipient.contact_id, campaign_id=recipient.send.campaign_id, kind=kind,
                channel=Channel.EMAIL, team=Team.MARKETING, occurred_at=moment, url=url[:2000],
                metadata={"send_id": recipient.send_id}, dedupe_key=f"{kind}:{recipient_id}:{key_part}"[:64],
                created_at=moment,
            )
    except IntegrityError:
        return False
    return True
