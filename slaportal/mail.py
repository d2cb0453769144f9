"""The demo's email backend: one ``.eml`` file per message under
``EMAIL_FILE_PATH`` (``var/mail/``), which any mail client opens, and the
HTML part beside it as ``.html`` for a browser.

Django's file backend writes every message of a connection into one ``.log``
file of raw MIME, which a person cannot easily open; this one is meant to be
read.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, EmailMultiAlternatives

_counter = threading.Lock()
_sequence = 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "message"


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        global _sequence
        self.path.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            with _counter:
                _sequence += 1
                number = _sequence
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            recipient = parseaddr(message.to[0])[1] if message.to else "nobody"
            subject = message.subject.removeprefix(settings.EMAIL_SUBJECT_PREFIX)
            stem = f"{stamp}-{number:04d}-{_slug(recipient)[:30]}-{_slug(subject)[:40]}"
            (self.path / f"{stem}.eml").write_bytes(message.message().as_bytes())
            if isinstance(message, EmailMultiAlternatives):
                for content, mimetype in message.alternatives:
                    if mimetype == "text/html":
                        (self.path / f"{stem}.html").write_text(content, "utf-8")
            sent += 1
        return sent
