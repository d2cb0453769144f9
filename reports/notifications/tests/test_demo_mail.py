"""The demo's mail: one file per email under var/mail/, readable by a person."""

from __future__ import annotations

import email
from email import policy

import pytest
import time_machine
from django.core.management import call_command

from .moments import AFTER_CLOSE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]


def test_send_scorecards_in_the_demo_writes_files_a_person_can_open(
    org, settings, tmp_path
):
    settings.EMAIL_BACKEND = "slaportal.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    with time_machine.travel(AFTER_CLOSE, tick=False):
        call_command("send_scorecards", "--month", "2026-01", stdout=None)
    emls = sorted(tmp_path.glob("*.eml"))
    htmls = sorted(tmp_path.glob("*.html"))
    assert len(emls) == len(htmls) == 8
    assert any("sales-lead" in p.name and "scorecards" in p.name for p in emls)
    message = email.message_from_bytes(emls[0].read_bytes(), policy=policy.default)
    assert message["Subject"].startswith("[slaportal] ")
    assert message.get_body(("plain",)) is not None
    assert "<html" in message.get_body(("html",)).get_content()
    assert "slaportal" in htmls[0].read_text()
