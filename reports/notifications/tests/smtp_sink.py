"""A real SMTP server on loopback for the services tier, with faults on demand.

It accepts a message the way a mail server does: after the end of the data
and its own processing (``delay``), replying 250. A client that disconnects
before that reply (a killed worker) has its message dropped, as a server
would; aiosmtpd cancels the handler when the connection goes. ``hold()``
keeps messages inside that processing until ``release()``, so a test can
kill the workers while they wait for the server's answer.
"""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import policy

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Received:
    rcpt: str
    message_id: str
    kind: str
    subject: str
    at: float
    peer: tuple  # the client's address and port: one per connection
    html_size: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SinkHandler:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[Received] = []
        self.refused: Counter[str] = Counter()
        self.fail_first: dict[str, int] = {}
        self.delay = 0.0
        self.gate = threading.Event()
        self.gate.set()
        self.holding = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            left = self.fail_first.get(address, 0)
            if left:
                self.fail_first[address] = left - 1
                self.refused[address] += 1
                return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if not self.gate.is_set():
            with self.lock:
                self.holding += 1
            try:
                while not self.gate.is_set():
                    await asyncio.sleep(0.01)
            finally:
                with self.lock:
                    self.holding -= 1
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.received.append(
                    Received(
                        rcpt=rcpt,
                        message_id=str(message["Message-ID"]),
                        kind=str(message["X-Slaportal-Kind"]),
                        subject=str(message["Subject"]),
                        at=time.monotonic(),
                        peer=tuple(session.peer),
                        html_size=len(html.get_content().encode())
                        if (html := message.get_body(("html",)))
                        else 0,
                    )
                )
        return "250 2.0.0 Accepted"


class SmtpSink:
    def __init__(self) -> None:
        self.handler = SinkHandler()
        self.port = free_port()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.release()
        self.controller.stop()

    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.received)

    def count(self) -> int:
        with self.handler.lock:
            return len(self.handler.received)

    def hold(self) -> None:
        self.handler.gate.clear()

    def release(self) -> None:
        self.handler.gate.set()

    @property
    def holding(self) -> int:
        with self.handler.lock:
            return self.handler.holding
