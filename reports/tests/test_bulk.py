"""Rows written as plain values read back as the ORM would have written them."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from agreements.models import Agreement, Team
from agreements.tests.factories import AgreementFactory, ObjectiveFactory
from reports.bulk import collection_paused, instances, rows_insert
from reports.models import Breach, Scorecard, ScorecardLine

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 2, 4, 8, 30, 15, 123456, tzinfo=dt.UTC)


def test_rows_insert_writes_what_bulk_create_would(settings):
    agreements = [AgreementFactory() for _ in range(3)]
    width = len([f for f in Scorecard._meta.concrete_fields if not f.primary_key])
    limit = connection.features.max_query_params or 65535
    months = min(2000, limit // width) + 5  # more than one statement
    rows = [
        {
            "agreement_id": agreements[n % 3].pk,
            "month": dt.date(1900 + n // 12, n % 12 + 1, 1),
            "status": "missed" if n % 2 else "met",
            "score": None if n % 5 == 0 else Decimal("87.5"),
            "reported_on_time": bool(n % 3),
            "finalised_at": WHEN,
        }
        for n in range(months)
    ]
    assert rows_insert(Scorecard, rows) == months
    stored = list(Scorecard.objects.order_by("month", "agreement_id"))
    assert len(stored) == months
    for row, card in zip(
        sorted(rows, key=lambda r: (r["month"], r["agreement_id"])),
        stored,
        strict=True,
    ):
        for name, value in row.items():
            assert getattr(card, name) == value, name
        # Left out: the model's defaults.
        assert (card.met_count, card.objective_count, card.recomputed_at) == (
            0,
            0,
            None,
        )


def test_rows_insert_counts_only_the_rows_it_wrote_when_it_ignores_conflicts():
    agreement = AgreementFactory()
    row = {
        "agreement_id": agreement.pk,
        "month": dt.date(2026, 1, 1),
        "status": "met",
        "reported_on_time": True,
        "finalised_at": WHEN,
    }
    assert rows_insert(Scorecard, [row]) == 1
    february = {**row, "month": dt.date(2026, 2, 1)}
    # January is stored already (one scorecard per agreement and month).
    assert rows_insert(Scorecard, [row, february], ignore_conflicts=True) == 1
    assert Scorecard.objects.count() == 2


def test_a_text_field_left_out_is_empty_and_a_datetime_keeps_its_instant():
    card = Scorecard.objects.create(
        agreement=AgreementFactory(),
        month=dt.date(2026, 1, 1),
        status="missed",
        reported_on_time=True,
        finalised_at=WHEN,
    )
    line = ScorecardLine.objects.create(
        scorecard=card,
        objective=ObjectiveFactory(agreement=card.agreement),
        target=Decimal(10),
        status="missed",
        reported_on_time=True,
    )
    rows_insert(
        Breach,
        [
            {
                "line_id": line.pk,
                "agreement_id": card.agreement_id,
                "month": card.month,
                "remedy": "Make up the shortfall.",
                "opened_at": WHEN.astimezone(dt.timezone(dt.timedelta(hours=-5))),
            }
        ],
    )
    breach = Breach.objects.get()
    assert breach.note == "" and breach.status == Breach.Status.OPEN
    assert breach.opened_at == WHEN


def test_collection_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()


def _in_oldest_generation(thing) -> bool:
    return any(each is thing for each in gc.get_objects(generation=2))


def _cycle() -> weakref.ref:
    a, b = Cell(), Cell()
    a.other, b.other = b, a
    return weakref.ref(a)


class Cell:
    other: Cell


def test_a_promoting_block_leaves_what_it_keeps_in_the_oldest_generation():
    with collection_paused(promote=True):
        kept = [[]]
    # Not walked again by the next young collection only to be found alive.
    assert _in_oldest_generation(kept)
    assert gc.get_freeze_count() == 0  # nothing left frozen


def test_a_promoting_block_collects_the_young_garbage_made_before_it():
    gc.disable()
    try:
        before = _cycle()
        assert before() is not None
        gc.enable()
        with collection_paused(promote=True):
            # Collected on the way in, not moved unexamined to the oldest
            # generation on the way out.
            assert before() is None
    finally:
        gc.enable()


def test_blocks_that_do_not_promote_leave_the_young_generations_alone():
    gc.collect()  # no collection due on the way out
    with collection_paused():
        kept = [[]]
    assert not _in_oldest_generation(kept)
    # Inside another paused block (a batch of emails, whose garbage is
    # cyclic), a promoting block neither collects nor moves anything.
    with collection_paused():
        outer = _cycle()
        with collection_paused(promote=True):
            inner = [[]]
        assert outer() is not None
        assert not _in_oldest_generation(inner)
    gc.collect()
    assert outer() is None


def _fields(instance) -> dict:
    return {
        f.attname: getattr(instance, f.attname)
        for f in type(instance)._meta.concrete_fields
    }


def test_instances_are_those_the_orm_gives_and_share_each_related_row():
    first = AgreementFactory()
    second = AgreementFactory(provider=first.provider, consumer=first.consumer)
    revised = AgreementFactory(
        supersedes=first,
        lineage=first.lineage,
        version=2,
        status=Agreement.Status.DRAFT,
        provider=first.provider,
    )
    queryset = Agreement.objects.filter(
        pk__in=[first.pk, second.pk, revised.pk]
    ).order_by("-pk")
    expected = list(queryset.select_related("provider", "consumer", "supersedes"))

    with CaptureQueriesContext(connection) as queries:
        built = instances(queryset, "provider", "consumer", "supersedes")
        # Everything the ORM would have cached is there: no query to follow.
        followed = [(a.provider.name, a.consumer.slug, a.supersedes) for a in built]
    assert len(queries) == 1

    assert [a.pk for a in built] == [a.pk for a in expected]
    for mine, theirs in zip(built, expected, strict=True):
        assert _fields(mine) == _fields(theirs)
        assert _fields(mine.provider) == _fields(theirs.provider)
        assert _fields(mine.consumer) == _fields(theirs.consumer)
        assert mine._state.adding is False
        assert mine._state.db == theirs._state.db
    assert followed[0][2] == first  # a revision's predecessor
    assert followed[1][2] is None and followed[2][2] is None  # none: cached
    # The rows that point at one team share one instance of it.
    assert built[0].provider is built[1].provider is built[2].provider
    # And they are models like any other: saved, they write, with history.
    built[1].title = "Renamed"
    built[1].save()
    second.refresh_from_db()
    assert second.title == "Renamed"
    assert second.history.count() == 2


def test_instances_of_a_model_whose_creation_is_listened_to_are_read_as_usual():
    AgreementFactory()
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(listener, sender=Team)
    try:
        built = instances(Agreement.objects.all(), "provider")
    finally:
        post_init.disconnect(listener, sender=Team)
    assert [team.pk for team in seen] == [built[0].provider.pk]


def test_instances_of_an_annotated_or_deferred_queryset_keep_what_it_asks_for():
    agreement = ObjectiveFactory().agreement
    annotated = instances(
        Agreement.objects.annotate(objective_count=Count("objectives")), "provider"
    )
    assert annotated[0].objective_count == 1
    assert annotated[0].provider == agreement.provider
    deferred = instances(Agreement.objects.defer("summary"))
    assert deferred[0].get_deferred_fields() == {"summary"}


def test_instances_follow_a_reverse_one_to_one_as_select_related_does():
    agreement = AgreementFactory()
    objectives = [ObjectiveFactory(agreement=agreement) for _ in range(2)]
    month = dt.date(2026, 1, 1)
    scorecard = Scorecard.objects.create(
        agreement=agreement,
        month=month,
        status="missed",
        met_count=1,
        objective_count=2,
        reported_on_time=True,
        finalised_at=dt.datetime(2026, 2, 4, tzinfo=dt.UTC),
    )
    missed, met = (
        ScorecardLine.objects.create(
            scorecard=scorecard,
            objective=objective,
            target=Decimal(10),
            actual=Decimal(actual),
            status=status,
            reported_on_time=True,
        )
        for objective, actual, status in zip(
            objectives, (3, 12), ("missed", "met"), strict=True
        )
    )
    breach = Breach.objects.create(
        line=missed, agreement=agreement, month=month, remedy="A credit."
    )
    queryset = ScorecardLine.objects.filter(scorecard=scorecard).order_by("pk")
    expected = list(queryset.select_related("objective", "breach"))

    with CaptureQueriesContext(connection) as queries:
        built = instances(queryset, "objective", "breach")
        followed = [
            (line.objective.name, getattr(line, "breach", None)) for line in built
        ]
    assert len(queries) == 1
    assert [_fields(line) for line in built] == [_fields(line) for line in expected]
    assert followed[0] == (objectives[0].name, breach)
    assert _fields(followed[0][1]) == _fields(expected[0].breach)
    assert followed[1] == (objectives[1].name, None)  # none, cached: no query
    assert met.pk == built[1].pk
