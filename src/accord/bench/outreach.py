"""accord bench outreach: prepare a send to a 100,000-contact segment, then deliver over SMTP.

Measured in one run, on a scratch database:
- baseline: a bare scan of the segment (ids and emails of its members);
- classification: the contact policy and suppression applied to every member (one query);
- preparation: classification plus storing one recipient row per member (what the worker does);
- delivery: messages per second to a local SMTP server (aiosmtpd) through the real path.
"""

from __future__ import annotations

import random
import socket
import statistics
import time
import tracemalloc
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from accord.bench import Figure, benchmark
from accord.bench.scratch import scratch_database


@benchmark("outreach")
def outreach_bench(*, stdout, size=None, database_url="", seconds=None, **_) -> list[Figure]:
    contacts = size or 100_000
    with scratch_database(database_url) as vendor:
        stdout.write(f"outreach bench on {vendor}: {contacts:,} contacts in the segment")
        send = _generate(contacts, stdout)
        return _measure(send, contacts, vendor, stdout, deliveries=min(2000, contacts))


def _generate(count: int, stdout):
    from accord.campaigns.models import Touchpoint, TouchpointKind
    from accord.core.clock import now
    from accord.core.models import Role, Team, User
    from accord.crm.lifecycle import Stage
    from accord.crm.models import Contact, ContactInterest
    from accord.outreach.models import ContactSubscription, SubscriptionTopic
    from accord.outreach.services import email_send_create, email_template_save, segment_save

    rng = random.Random(7)
    moment = now()
    marketer = User.objects.create_user(username="bench-marketer", password=None, role=Role.MARKETING, team=Team.MARKETING)
    stages = [Stage.LEAD] * 6 + [Stage.MQL] * 2 + [Stage.SAL, Stage.SUBSCRIBER]
    started = time.perf_counter()
    Contact.objects.bulk_create(
        [
            Contact(
                email=f"person{i}@bench{i % 997}.test", first_name=f"P{i}", last_name="Bench",
                lifecycle_stage=rng.choice(stages), do_not_contact=rng.random() < 0.02,
                created_at=moment, updated_at=moment,
            )
            for i in range(count)
        ],
        batch_size=5000,
    )
    ids = list(Contact.objects.values_list("id", flat=True))
    ContactInterest.objects.bulk_create(
        [ContactInterest(contact_id=cid, name="sso", added_at=moment) for cid in ids], batch_size=5000
    )
    kinds = [
        (TouchpointKind.EMAIL_SENT, Team.MARKETING),
        (TouchpointKind.CALL, Team.SALES),
        (TouchpointKind.SALES_EMAIL, Team.SALES),
        (TouchpointKind.MEETING, Team.SALES),
        (TouchpointKind.PAGE_VISIT, Team.MARKETING),
    ]
    touches = []
    for cid in ids:
        for _ in range(rng.randint(0, 5)):
            kind, team = rng.choice(kinds)
            at = moment - timedelta(days=rng.uniform(0, 30))
            touches.append(Touchpoint(contact_id=cid, kind=kind, team=team, occurred_at=at, created_at=at))
        if len(touches) >= 20000:
            Touchpoint.objects.bulk_create(touches, batch_size=5000)
            touches = []
    Touchpoint.objects.bulk_create(touches, batch_size=5000)
    topic = SubscriptionTopic.objects.create(name="Product news")
    ContactSubscription.objects.bulk_create(
        [ContactSubscription(contact_id=cid, topic=topic, unsubscribed_at=moment) for cid in ids if rng.random() < 0.03],
        batch_size=5000,
    )
    segment = segment_save(name="SSO", definition={"interests_any": ["sso"]}, actor=marketer)
    template = email_template_save(
        name="Bench", subject="Hi {{ first_name }}", body_text="Hello {{ first_name }} about {{ top_interest }}",
        body_html="<p>Hello {{ first_name }}</p>", actor=marketer,
    )
    send = email_send_create(name="Bench send", segment=segment, template=template, actor=marketer, topic=topic)
    stdout.write(
        f"generated {count:,} contacts and {Touchpoint.objects.count():,} touchpoints in {time.perf_counter() - started:.1f} s"
    )
    return send


def _timed(function, repeat: int = 3) -> tuple[float, object]:
    timings, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings), result


def _measure(send, contacts: int, vendor: str, stdout, *, deliveries: int) -> list[Figure]:
    from accord.outreach.models import SendRecipient
    from accord.outreach.policy import audience_classify
    from accord.outreach.segments import segment_contacts
    from accord.outreach.services import email_send_prepare

    definition = send.segment.definition
    scan_s, members = _timed(lambda: list(segment_contacts(definition).values_list("id", "email")))
    classify_s, decisions = _timed(
        lambda: audience_classify(contacts=segment_contacts(definition), promotional=True, topic_id=send.topic_id)
    )
    # Peak memory of the classification, traced on its own: tracing slows Python down, so the
    # timed preparation below runs untraced.
    tracemalloc.start()
    audience_classify(contacts=segment_contacts(definition), promotional=True, topic_id=send.topic_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        prepared = email_send_prepare(send=send)
        prepare_s = time.perf_counter() - started
    verdicts = {}
    for decision in decisions:
        verdicts[decision.verdict] = verdicts.get(decision.verdict, 0) + 1
    stdout.write(
        f"segment scan {scan_s * 1000:.0f} ms ({len(members):,} members); classification {classify_s * 1000:.0f} ms; "
        f"prepare {prepare_s * 1000:.0f} ms in {len(captured)} queries; verdicts {verdicts}"
    )
    assert prepared == len(members) == SendRecipient.objects.filter(send=send).count()
    rate, sent = _delivery_rate(send, deliveries, stdout)
    details = {"vendor": vendor, "contacts": contacts, "verdicts": verdicts}
    return [
        Figure(f"send preparation vs segment scan ({vendor}, {contacts:,})", prepare_s / scan_s, "x", None,
               details={**details, "prepare_s": prepare_s, "scan_s": scan_s}),
        Figure(f"policy classification vs segment scan ({vendor})", classify_s / scan_s, "x", None,
               details={"classify_s": classify_s, "scan_s": scan_s}),
        Figure(f"queries to prepare the send ({vendor})", len(captured), "count", 100,
               details={"rows": prepared}),
        Figure(f"peak Python memory of the classification ({vendor})", peak / 2**20, "MB", None),
        Figure(f"delivery rate to a local SMTP server ({vendor})", rate, "msg/s", None, direction="min",
               details={"messages": sent}),
    ]


def _delivery_rate(send, deliveries: int, stdout) -> tuple[float, int]:
    from aiosmtpd.controller import Controller

    from accord.core.clock import now
    from accord.outreach.models import RecipientStatus, SendRecipient
    from accord.outreach.services import sends_deliver_due

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    # Deliver a slice: the rest of the audience waits, as it would between worker runs.
    keep = list(
        SendRecipient.objects.filter(send=send, status=RecipientStatus.QUEUED).values_list("id", flat=True)[:deliveries]
    )
    SendRecipient.objects.filter(send=send, status=RecipientStatus.QUEUED).exclude(id__in=keep).update(
        due_at=now() + timedelta(days=365)
    )
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port
        ):
            started = time.perf_counter()
            report = sends_deliver_due(max_batches=1000)
            elapsed = time.perf_counter() - started
    finally:
        controller.stop()
    stdout.write(f"delivered {report.sent:,} messages in {elapsed:.2f} s")
    return report.sent / elapsed if elapsed else 0.0, report.sent
