"""``BulkEmail`` flattens to the same bytes as Django's own email class, and
``SMTPEmailBackend`` hands them to the server as ``smtplib`` would."""

from __future__ import annotations

import email
import smtplib
from email import policy

import pytest
from django.core.mail import EmailMultiAlternatives
from hypothesis import given
from hypothesis import strategies as st

from slaportal.mail import BulkEmail, SMTPEmailBackend, dot_stuffed

HEADERS = {
    "Date": "Mon, 07 Dec 2026 08:00:00 +0100",
    "Message-ID": "<slaportal.scorecard.2026-11.7.42.r0@example.com>",
    "Auto-Submitted": "auto-generated",
}
ROWS = "\n".join(
    f'<tr><td style="color: #212529;">Row {n} \u2014 caf\u00e9</td><td>{n}</td></tr>'
    for n in range(600)
)
CASES = {
    "html of many lines": ("Hello Zo\u00eb,\n\nYour scorecards.\n", ROWS),
    "every kind of line ending": ("a\r\nb\rc\nd\n\n", "<p>x</p>\r\n<p>y</p>\r<p>z</p>"),
    "no newline at the end": ("plain", "<p>caf\u00e9</p>"),
    "ascii only": ("Hello Ann,\nAll met.\n", "<p>All met.</p>\n"),
    "a line past 998 bytes": ("short\n", "<p>" + "\u00e9" * 600 + "</p>\n"),
    "a long line of ascii": ("x" * 1200, "<p>" + "y" * 999 + "</p>"),
    "a line break of another kind": ("a\u2028b\x0bc\n", "<p>" + "z\x0c" * 600 + "</p>"),
    "empty text": ("", "<p>only html</p>"),
}


def _pair(text: str, html: str) -> tuple[EmailMultiAlternatives, BulkEmail]:
    emails = []
    for cls in (EmailMultiAlternatives, BulkEmail):
        message = cls(
            subject="Your scorecards for November 2026: 2 breaches \u2014 caf\u00e9",
            body=text,
            from_email="slaportal <sla@example.com>",
            to=["Zo\u00eb Lead <zoe@example.com>"],
            headers=HEADERS,
        )
        message.attach_alternative(html, "text/html")
        emails.append(message)
    return emails[0], emails[1]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("linesep", ["\r\n", "\n"])
def test_bulk_email_flattens_to_the_bytes_django_writes(case, linesep):
    django_email, bulk_email = _pair(*CASES[case])
    expected, got = django_email.message(), bulk_email.message()
    for message in (expected, got):
        message.set_boundary("===boundary===")  # random otherwise
    assert got.as_bytes(linesep=linesep) == expected.as_bytes(linesep=linesep)
    assert got.as_string() == expected.as_string()


def test_bulk_email_reads_back_as_written():
    text, html = CASES["html of many lines"]
    _django, bulk = _pair(text, html)
    parsed = email.message_from_bytes(
        bulk.message().as_bytes(linesep="\r\n"), policy=policy.default
    )
    assert parsed["To"] == "Zo\u00eb Lead <zoe@example.com>"
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html


def test_a_line_past_998_bytes_is_sent_quoted_printable():
    _django, bulk = _pair(*CASES["a line past 998 bytes"])
    parts = bulk.message().get_payload()
    assert [p["Content-Transfer-Encoding"] for p in parts] == [
        "7bit",
        "quoted-printable",
    ]


def test_the_boundary_is_the_one_django_would_draw():
    """The same random draw, the same boundary and bytes: only the search of
    the text for it is quicker."""
    import random

    text, html = CASES["html of many lines"]
    django_email, bulk_email = _pair(text, html)
    random.seed(2026)
    expected = django_email.message().as_bytes(linesep="\r\n")
    random.seed(2026)
    assert bulk_email.message().as_bytes(linesep="\r\n") == expected


def test_a_boundary_found_in_the_text_is_left_to_the_librarys_search(monkeypatch):
    """A text holding the drawn boundary as a line of its own: the library's
    own search decides, and the bytes are still Django's."""
    import email.generator
    import random

    token = 123456789
    drawn = "=" * 15 + email.generator._fmt % token + "=="  # type: ignore[attr-defined]
    django_email, bulk_email = _pair(f"before\n--{drawn}\nafter\n", "<p>x</p>")
    monkeypatch.setattr(random, "randrange", lambda stop: token)
    expected = django_email.message().as_bytes(linesep="\n")
    got = bulk_email.message().as_bytes(linesep="\n")
    assert got == expected
    assert f'boundary="{drawn}.0"'.encode() in got  # not the text's line


@given(
    st.binary(max_size=300)
    | st.lists(st.sampled_from([b".", b"\n", b"\r", b"a"])).map(b"".join)
)
def test_dot_stuffing_gives_the_bytes_smtplib_gives(data):
    assert dot_stuffed(data) == smtplib._quote_periods(data)  # type: ignore[attr-defined]


def test_a_message_of_dotted_lines_arrives_as_written():
    """Through a real SMTP server: each line's leading dot is stuffed going
    out and taken off again by the server."""
    from aiosmtpd.controller import Controller

    from reports.notifications.tests.smtp_sink import free_port

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        html = ".starts with a dot\n..two\n<p>\n.\n</p>\n"
        _django, bulk = _pair(".first\n. \nlast.\n", html)
        bulk.connection = SMTPEmailBackend(host="127.0.0.1", port=port)
        assert bulk.send() == 1
    finally:
        controller.stop()
    (content,) = received
    parsed = email.message_from_bytes(content, policy=policy.default)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == (
        ".first\n. \nlast.\n"
    )
    assert parsed.get_body(("html",)).get_content().replace("\r\n", "\n") == html
