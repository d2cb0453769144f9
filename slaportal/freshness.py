"""Pages kept while nothing they show has changed.

The dashboard and the API's agreement list cost far more to build than to
send, and executives read them much more often than the data moves. Each is
kept in the shared cache under a *data stamp*: a number that every write to
the database moves on. Any INSERT, UPDATE or DELETE through Django's
connection, by the ORM, ``bulk_create``, ``QuerySet.update`` or raw SQL,
moves the stamp when its transaction commits (just before the statement
outside one), so a page kept before the
write is not served after it, whichever process wrote; and the connection
that wrote, which sees its own writes before they commit, moves it before it
next reads it.
Tables that no page shows (sessions, the cache itself, log-in attempts, the
email ledger, API token use) do not move it.

The stamp lives in the cache. When the cache loses it (a restart, an
eviction), it starts again from the clock, never from a value a kept page
may carry; a kept page also expires after PAGE_SECONDS whatever happens.

*Month stamps* are narrower: one per month, moved by a change to that
month's figures, and one for every month, moved by any change whose months
are not known (an agreement signed, a calendar, an entry edited, records
imported). They let a month's organisation-wide judgement be kept while
figures arrive for another month. Every change to figures and agreements is
kept in history, so the history rows say what moved: a row created or
deleted with a ``month`` moves that month, anything else every month, but
for what no month's judgement reads (friction, channels, breaches). Bulk
writes that bypass history's signal (records imports) move them
themselves.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import pickle
import re
import time
import zlib
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate

STAMP_KEY = "data-stamp"
PAGE_SECONDS = 300  # how long a kept page may be served at most
QUIET_TABLES = frozenset(
    {
        "django_session",
        "slaportal_cache",
        "axes_accessattempt",
        "axes_accessfailurelog",
        "axes_accesslog",
        "api_apitoken",
        "reports_delivery",
        "reports_monthlyrun",
    }
)
# Logging in writes the time of it, which no page shows.
_QUIET_UPDATE = re.compile(
    r'^\s*UPDATE\s+"auth_user"\s+SET\s+"last_login"\s*=\s*%s\s+WHERE', re.IGNORECASE
)
_WRITE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+["`]?(\w+)',
    re.IGNORECASE,
)


def writes_to(sql: str) -> str | None:
    """The table ``sql`` writes to, or None for a read or other statement."""
    match = _WRITE.match(sql)
    if match is None or _QUIET_UPDATE.match(sql):
        return None
    return match.group(1).lower()


def stamp() -> int:
    """The current data stamp (one cache read; started when missing)."""
    if getattr(connection, "wrote_since_stamp", False):
        connection.wrote_since_stamp = False  # type: ignore[attr-defined]
        bump()
    return _started(STAMP_KEY, cache.get(STAMP_KEY))


def _started(key: str, value: Any) -> int:
    """``value`` read for ``key``; when missing, a new stamp from the clock
    (or whatever another process started meanwhile)."""
    if value is None:
        value = time.time_ns()
        if not cache.add(key, value, timeout=None):
            value = cache.get(key, value)
    return int(value)


def bump() -> None:
    """Move the data stamp on: every page kept so far is stale."""
    try:
        cache.incr(STAMP_KEY)
    except ValueError:  # missing: start it again from the clock
        cache.set(STAMP_KEY, time.time_ns(), timeout=None)


_migrating = False


def _watch(execute, sql, params, many, context):
    table = writes_to(sql)
    if table is not None:
        written(table, context["connection"])
    return execute(sql, params, many, context)


def written(table: str, writer=connection) -> None:
    """``writer`` writes to ``table`` now: what ``_watch`` does for each
    statement, for a write that does not go through Django's ``execute``
    (PostgreSQL's COPY)."""
    if table in QUIET_TABLES or _migrating:
        return
    if not writer.in_atomic_block:
        # Committed as soon as it runs: moved before it, since the cache may
        # be a table of this very connection, whose use after the statement
        # would discard the rows the statement returns. (A page built in the
        # instant between lives at most PAGE_SECONDS; services, which write
        # inside transactions, move it after their commit.)
        bump()
    elif not any(callback is bump for _sids, callback, _robust in writer.run_on_commit):
        writer.on_commit(bump)
    writer.wrote_since_stamp = True


def _install(sender, connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def _pause(**kwargs) -> None:
    # While migrations run, the cache's own table may not exist yet.
    global _migrating
    _migrating = True


def _resume(**kwargs) -> None:
    global _migrating
    if _migrating:
        _migrating = False
        bump()
        months_moved(None)


def watch_writes() -> None:
    """Have every database connection move the stamp on its writes, every
    history row move its month's stamp, and a migration move them once,
    when it is over."""
    from simple_history.signals import post_create_historical_record

    connection_created.connect(_install, dispatch_uid="slaportal.freshness")
    pre_migrate.connect(_pause, dispatch_uid="slaportal.freshness")
    post_migrate.connect(_resume, dispatch_uid="slaportal.freshness")
    post_create_historical_record.connect(
        _history_written, dispatch_uid="slaportal.freshness"
    )


# --- Month stamps -----------------------------------------------------------

EVERY_MONTH_KEY = "data-stamp:every-month"


def _month_key(month: datetime.date) -> str:
    return f"data-stamp:month:{month:%Y-%m}"


def _move(keys: Iterable[str]) -> None:
    for key in keys:
        # Missing: whoever reads it next starts it afresh, from the clock.
        with contextlib.suppress(ValueError):
            cache.incr(key)


def months_moved(months: Iterable[datetime.date] | None) -> None:
    """The figures of ``months`` change (None: of months not known, so of
    every month). Their stamps move when the transaction commits, and
    before this connection next reads one, as the data stamp does."""
    keys = (
        {EVERY_MONTH_KEY}
        if months is None
        else {_month_key(month.replace(day=1)) for month in months}
    )
    if not keys:
        return
    if not connection.in_atomic_block:
        _move(keys)
        return
    pending = getattr(connection, "months_pending", None)
    if pending is None:
        pending = connection.months_pending = set()  # type: ignore[attr-defined]
    pending |= keys
    moving = frozenset(keys)
    # Once per transaction for each set of months, however many rows.
    if not any(
        isinstance(entry[1], partial) and entry[1].args == (moving,)
        for entry in connection.run_on_commit
    ):
        connection.on_commit(partial(_move, moving))


def month_stamp(month: datetime.date) -> tuple[int, int]:
    """The stamps of every month and of ``month`` (one cache read; each
    started from the clock when missing)."""
    every, this = month_stamps([month])
    return every, this


def month_stamps(months: Iterable[datetime.date]) -> tuple[int, ...]:
    """The stamps of every month and of each of ``months``, in that order
    (one cache read; each started from the clock when missing)."""
    pending = getattr(connection, "months_pending", None)
    if pending:
        connection.months_pending = set()  # type: ignore[attr-defined]
        _move(pending)
    keys = [EVERY_MONTH_KEY, *(_month_key(month) for month in months)]
    values = cache.get_many(keys)
    return tuple(_started(key, values.get(key)) for key in keys)


# History of what no month's judgement reads (scorecard statuses, late
# reporters): the friction reports and their conversation, the knowledge
# base, team channels, breaches (opened by finalising, acknowledged after).
UNJUDGED = frozenset(
    {
        "agreements.frictionreport",
        "agreements.frictioncomment",
        "agreements.painpoint",
        "reports.teamchannel",
        "reports.breach",
    }
)


def _history_written(sender, instance, history_instance, **kwargs) -> None:
    if instance._meta.label_lower in UNJUDGED:
        return
    month = getattr(instance, "month", None)
    created_or_deleted = getattr(history_instance, "history_type", "") in ("+", "-")
    if isinstance(month, datetime.date) and created_or_deleted:
        months_moved([month])
    else:
        # An edit may have moved the row from another month, and a change
        # without a month (an agreement, a calendar) may touch any.
        months_moved(None)


def kept(
    parts: tuple[Any, ...],
    build: Callable[[], Any],
    *,
    bucket: int = PAGE_SECONDS,
    keep: bool = True,
) -> Any:
    """The value ``build()`` returns for ``parts`` (who asks, and for what),
    kept while the data stamp stands and for at most ``bucket`` seconds of
    the clock, since what a page says also moves with the date and time.
    ``build`` runs on a miss; a value of None is never kept, nor anything
    when ``keep`` is false (an address nobody's page links to). Values are
    kept compressed: a page of a few hundred KiB takes a few dozen."""
    if not keep:
        return build()
    moment = int(time.time()) // bucket
    digest = hashlib.sha256(repr((stamp(), moment, *parts)).encode()).hexdigest()
    key = f"kept:{digest}"
    packed = cache.get(key)
    if packed is not None:
        return pickle.loads(zlib.decompress(packed))  # noqa: S301 (our own cache)
    value = build()
    if value is not None:
        cache.set(key, zlib.compress(pickle.dumps(value), 1), timeout=bucket)
    return value


def known_parameters(request, names: Iterable[str]) -> bool:
    """Whether every query parameter of ``request`` is one of ``names``: an
    address made up with others is built for whoever asks and never kept,
    so that nobody can fill the cache with pages no link leads to."""
    return set(request.GET).issubset(names)
