"""The demo takes concurrent writes: four people saving at once through the
API against the demo's SQLite file, served by ``runserver`` as ``make run``
serves it. Every write is answered and kept, with its history row; none is
a 500 "database is locked"."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import date

from time_machine import escape_hatch

from .test_settings import ROOT, clean_env

THREADS = 4
WRITES = 40

SETUP = """
import datetime, json, django
django.setup()
from agreements.models import Membership, Team
from agreements.tests.factories import AgreementFactory, UserFactory
from api.services import api_token_create

team = Team.objects.create(name="Marketing", slug="marketing", kind="marketing")
sales = Team.objects.create(name="Sales", slug="sales", kind="sales")
AgreementFactory(provider=team, consumer=sales)
tokens = []
for n in range(4):
    user = UserFactory(username=f"lead{n}")
    Membership.objects.create(user=user, team=team, role="lead")
    tokens.append(api_token_create(user=user, name="load")[1])
print(json.dumps({"team": team.pk, "tokens": tokens}))
"""

COUNT = """
import json, django
django.setup()
from agreements.models import LeadLogEntry
print(json.dumps([LeadLogEntry.objects.count(),
                  LeadLogEntry.history.filter(history_type="+").count()]))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _last_json(stdout: str):
    return json.loads(stdout.strip().splitlines()[-1])


def test_four_people_writing_at_once_all_get_through(tmp_path):
    env = clean_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        DJANGO_DEBUG="True",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
    )

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )

    manage("manage.py", "migrate", "--noinput", "-v0")
    setup = _last_json(manage("-c", SETUP).stdout)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/v1/lead-log-entries/"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=2)
                break
            except OSError:
                time.sleep(0.3)
        statuses: Counter[int] = Counter()
        lock = threading.Lock()
        # The server keeps real time, whatever clock this session runs on.
        today = (
            escape_hatch.datetime.date.today()
            if escape_hatch.is_travelling()
            else date.today()
        )

        def writer(n: int) -> None:
            for _ in range(WRITES):
                body = {
                    "team": setup["team"],
                    "date": today.isoformat(),
                    "leads_delivered": 3,
                    "qualified_leads": 1,
                    "client_token": str(uuid.uuid4()),
                }
                request = urllib.request.Request(
                    url,
                    data=json.dumps(body).encode(),
                    headers={
                        "Authorization": f"Bearer {setup['tokens'][n]}",
                        "Content-Type": "application/json",
                    },
                    method="POST",
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        code = response.status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                with lock:
                    statuses[code] += 1

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=20)

    assert statuses == {201: THREADS * WRITES}, statuses
    rows, history = _last_json(manage("-c", COUNT).stdout)
    assert (rows, history) == (THREADS * WRITES, THREADS * WRITES)
