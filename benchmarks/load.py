"""The dashboard and the API under concurrent load: gunicorn with production
settings on loopback, against one size's benchmark database.

A bounded client: ``--connections`` threads, each sending one request at a
time over a fresh connection (gunicorn's sync workers close every
connection), as the generated executive (a session cookie for the dashboard,
a Bearer token for the API). The routes are loaded one at a time in
alternating phases of ``--seconds`` each (health, dashboard, API, health,
...), ``--rounds`` times, so that each route's requests/s is its own and the
three share the machine's state. Run by ``benchmarks/run.py``; writes JSON
to ``--out``.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import org

WORKERS = 2
REDIS_DB = 13  # the benchmark's own: never the default 0
HOST = "127.0.0.1"


def production_env(url: str) -> dict[str, str]:
    """Production settings for a server on loopback: TLS-only settings off,
    since nothing in front of it terminates TLS, and the API's per-user
    throttle lifted, since one user sends every request here."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY")
        or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "DATABASE_URL": url,
        "REDIS_URL": f"redis://{HOST}:6379/{REDIS_DB}",
        "SITE_URL": f"http://{HOST}",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SESSION_COOKIE_SECURE": "false",
        "DJANGO_CSRF_COOKIE_SECURE": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "API_THROTTLE_USER": "1000000/minute",
        "LOG_LEVEL": "WARNING",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teams", type=int, required=True)
    parser.add_argument("--agreements", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5, help="Per phase.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    url = org.database_url(args.teams, args.agreements)
    env = production_env(url)
    # The same secret as the server, so that the session signed here is valid.
    os.environ["DJANGO_SECRET_KEY"] = env["DJANGO_SECRET_KEY"]
    org.setup_django(url)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from agreements import periods
    from api.models import ApiToken
    from api.services import api_token_create
    from reports.services import scorecards_finalise

    month = periods.previous_month(periods.current_month())
    if not periods.is_locked(month):
        month = periods.previous_month(month)
    org.reset_month(month)
    scorecards_finalise(month=month)  # the morning after the month end
    executive = get_user_model().objects.get(username="generated-executive")
    client = Client()
    client.force_login(executive)
    cookie = client.cookies["sessionid"].value
    token, raw = api_token_create(user=executive, name="benchmark load")
    session = {"Cookie": f"sessionid={cookie}"}
    bearer = {"Authorization": f"Bearer {raw}"}
    # The dashboard and the API list are kept until the data moves on
    # (slaportal.freshness): loaded as they are, and built for every request,
    # as while figures arrive: an address with a parameter the pages never
    # make ("fresh") is never kept, and each request's is new besides.
    routes = {
        "health": ("/health/live/", {}),
        "dashboard": ("/reports/dashboard/", session),
        "dashboard built": ("/reports/dashboard/?fresh={n}", session),
        "api": ("/api/v1/agreements/", bearer),
        "api built": ("/api/v1/agreements/?fresh={n}", bearer),
    }

    port = _free_port()
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=org.ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(  # noqa: S603 (our own command line)
        [
            sys.executable,
            "-m",
            "gunicorn",
            "slaportal.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
        ],
        cwd=org.ROOT,
        env=env,
    )
    try:
        _wait_for(port, server)
        for path, headers in routes.values():  # warm up every worker
            for _ in range(WORKERS * 2):
                _request(port, path.format(n=-1), headers)
        samples = []
        for _ in range(args.rounds):
            for name in routes:
                samples += _load(port, routes, name, args.seconds, args.connections)
    finally:
        org.stop(server)
        ApiToken.objects.filter(pk=token.pk).delete()
        org.reset_month(month)

    result = {
        "teams": args.teams,
        "agreements": args.agreements,
        "workers": WORKERS,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "routes": {},
    }
    for name, (path, _) in routes.items():
        times = sorted(t for route, t, _ in samples if route == name)
        errors = sum(1 for route, _, ok in samples if route == name and not ok)
        result["routes"][name] = {
            "path": path,
            "requests": len(times),
            # Its phases alone: requests over the time they lasted.
            "rate": len(times) / (args.seconds * args.rounds),
            "p50": statistics.median(times) if times else 0,
            "p95": _percentile(times, 95),
            "p99": _percentile(times, 99),
            "errors": errors,
        }
    Path(args.out).write_text(json.dumps(result, indent=1))


# Numbers the "built" routes' addresses across every phase and round: an
# address asked for twice would be served from the kept pages.
NUMBERS = itertools.count()


def _load(port: int, routes: dict, name: str, seconds: float, connections: int) -> list:
    """``connections`` clients asking for route ``name`` for ``seconds``."""
    samples: list[tuple[str, float, bool]] = []
    lock = threading.Lock()
    path, headers = routes[name]
    deadline = time.perf_counter() + seconds

    def client() -> None:
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            ok = _request(port, path.format(n=next(NUMBERS)), headers)
            mine.append((name, time.perf_counter() - started, ok))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples


def _request(port: int, path: str, headers: dict) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", path, headers={"Host": HOST, **headers})
        response = conn.getresponse()
        response.read()
        return response.status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        if _request(port, "/health/live/", {}):
            return
        time.sleep(0.1)
    raise SystemExit("gunicorn did not answer /health/live/ within 30 s")


if __name__ == "__main__":
    main()
