"""Email plumbing of our own.

``EmlFileBackend``, the demo's email backend: one ``.eml`` file per message under
``EMAIL_FILE_PATH`` (``var/mail/``), which any mail client opens, and the
HTML part beside it as ``.html`` for a browser.

Django's file backend writes every message of a connection into one ``.log``
file of raw MIME, which a person cannot easily open; this one is meant to be
read.

``BulkEmail``: the month end's emails, the same bytes as Django's, built in
fewer steps.

``SMTPEmailBackend``: Django's SMTP backend, handing each message to the
server in fewer steps.
"""

from __future__ import annotations

import re
import smtplib
import threading
from collections.abc import Sequence
from datetime import datetime
from email.charset import Charset
from email.generator import BytesGenerator
from email.utils import parseaddr
from io import BytesIO
from pathlib import Path

from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import (
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    EmailMessage,
    EmailMultiAlternatives,
    SafeMIMEMultipart,
    SafeMIMEText,
    utf8_charset,
)

_counter = threading.Lock()
_sequence = 0


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "message"


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, *args, file_path: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.path = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
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
                    if mimetype == "text/html" and isinstance(content, str):
                        (self.path / f"{stem}.html").write_text(content, "utf-8")
            sent += 1
        return sent


# --- Flattening a large email in fewer steps ---------------------------------


class _Generator(BytesGenerator):
    """The standard library's generator, with a body's line endings rewritten
    by three ``str.replace`` instead of two writes per line: the same bytes
    (its ``_write_lines`` splits at ``\\r\\n``, ``\\r`` and ``\\n`` alike),
    in half the time for a month-end email's 500-line HTML part."""

    @classmethod
    def _make_boundary(cls, text=None):
        # The library's draws a boundary, then searches the whole text for a
        # line that is that boundary with a multi-line regular expression. A
        # text without the boundary at all has no such line: one substring
        # search says so. Only where it is there (practically never: it is
        # random) does the library's own search decide, and draw anew.
        boundary = super()._make_boundary()
        if text is None:
            return boundary
        marker = "--" + boundary
        if (marker.encode("ascii") if isinstance(text, bytes) else marker) in text:
            return super()._make_boundary(text)
        return boundary

    def _write_lines(self, lines: str) -> None:
        if lines:
            newline = self._NL  # type: ignore[attr-defined]  # set by flatten()
            self.write(
                lines.replace("\r\n", "\n").replace("\r", "\n").replace("\n", newline)
            )


class _Multipart(SafeMIMEMultipart):
    # Django's signature (``MIMEMixin.as_bytes``), not the stubs' ``Message``.
    def as_bytes(  # type: ignore[override]
        self, unixfrom: bool = False, linesep: str = "\n"
    ) -> bytes:
        out = BytesIO()
        _Generator(out, mangle_from_=False).flatten(
            self, unixfrom=unixfrom, linesep=linesep
        )
        return out.getvalue()


class _Text(SafeMIMEText):
    def set_payload(self, payload, charset=None) -> None:
        # Django asks whether any line passes 998 bytes (then the part is
        # quoted-printable) by encoding each line on its own. Encoded whole,
        # ``bytes.splitlines`` splits at fewer places than ``str.splitlines``,
        # so no longer line there means none in Django's count either; only
        # a longer one needs Django's own test.
        if charset == "utf-8" and not isinstance(charset, Charset):
            raw = payload.encode(errors="surrogateescape")
            if max(map(len, raw.splitlines()), default=0) <= (
                RFC5322_EMAIL_LINE_LENGTH_LIMIT
            ):
                charset = utf8_charset
        super().set_payload(payload, charset)


class BulkEmail(EmailMultiAlternatives):
    """An email with alternatives whose MIME form is Django's, built and
    flattened in fewer Python steps per line: a month end sends hundreds of
    60 KB HTML emails, and flattening each was a sixth of the sender's
    time. Byte for byte the same (``slaportal/tests/test_mail.py``)."""

    def message(self):
        message = super().message()
        if type(message) is SafeMIMEMultipart:
            # The same layout, one method different: every backend that
            # calls ``as_bytes`` gets the faster flattening.
            message.__class__ = _Multipart
        return message

    def _create_mime_attachment(self, content, mimetype):
        basetype, subtype = mimetype.split("/", 1)
        if basetype != "text":
            return super()._create_mime_attachment(  # type: ignore[misc]
                content, mimetype
            )
        return _Text(content, subtype, self.encoding or settings.DEFAULT_CHARSET)


# --- Handing a large email to the server in fewer steps --------------------

CRLF = b"\r\n"


def dot_stuffed(data: bytes) -> bytes:
    """``data`` with a second dot put before each line's leading dot (RFC 5321
    4.5.2), as ``smtplib`` does with a multi-line regular expression, which
    tries every position of a 70 KB message: ``^`` there is the start and
    each position after ``\\n``, so two ``bytes.replace`` give the same
    bytes."""
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


class _FasterData:
    def data(self, msg):
        """``smtplib.SMTP.data`` for bytes, dot-stuffed by ``dot_stuffed``."""
        if not isinstance(msg, bytes):
            return super().data(msg)  # type: ignore[misc]
        self.putcmd("data")  # type: ignore[attr-defined]
        code, reply = self.getreply()  # type: ignore[attr-defined]
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = dot_stuffed(msg)
        if not stuffed.endswith(CRLF):
            stuffed += CRLF
        self.send(stuffed + b"." + CRLF)  # type: ignore[attr-defined]
        return self.getreply()  # type: ignore[attr-defined]


class _SMTP(_FasterData, smtplib.SMTP):
    pass


class _SMTP_SSL(_FasterData, smtplib.SMTP_SSL):
    pass


class SMTPEmailBackend(smtp.EmailBackend):
    """Django's SMTP backend, whose connection dot-stuffs each message in two
    passes of ``bytes.replace`` (``dot_stuffed``): a fortieth of a month-end
    sender's time went to ``smtplib``'s regular expression."""

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP
