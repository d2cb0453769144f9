"""An SMTP sink on loopback, in a process of its own so that it does not
share an interpreter lock with the sender: accepts every message and appends
one JSON line per recipient (address, Message-ID, HTML size) to a file.

    python benchmarks/sink.py PORT FILE     # prints "ready" once listening
"""

from __future__ import annotations

import email
import json
import logging
import signal
import sys
import threading
from email import policy

from aiosmtpd.controller import Controller

logging.getLogger("mail.log").setLevel(logging.WARNING)


class Handler:
    def __init__(self, out) -> None:
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        html = message.get_body(preferencelist=("html",))
        size = len(html.get_content().encode()) if html is not None else 0
        for rcpt in envelope.rcpt_tos:
            record = {"rcpt": rcpt, "id": message["Message-ID"], "html": size}
            self.out.write(json.dumps(record) + "\n")
        self.out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with open(path, "a", encoding="utf-8") as out:
        controller = Controller(Handler(out), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        try:
            stop.wait()
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
