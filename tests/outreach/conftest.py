from __future__ import annotations

import socket

import pytest


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free loopback port; yields (port, received messages, refused addresses)."""
    from aiosmtpd.controller import Controller

    received: list = []
    refused: set[str] = set()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in refused:
                return "550 5.1.1 no such user"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 Message accepted"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, received, refused
    finally:
        controller.stop()

