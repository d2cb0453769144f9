"""A source's records: what its tool sent, a month at a time (or every
month), searched by id (and a lead's email), each row with its history, and
the same list as CSV.

The kinds of source share one page: ``LISTS`` holds, for each kind, the
models listed (an incidents source also sends maintenance windows, listed
with its incidents in time order), the columns the page and the CSV both
show, what the search reads and the filters a kind adds (and counts). A
page of any length runs the same queries: the page's keys (one query across
the models), then each listed model's rows, what they prefetch and their
history.

A lead flagged as the same person as another team's (``Lead.duplicate_of``)
names that lead, and the lead counted names those flagged against it, as far
as the person may see the other's source: else only its team.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet, Value
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.text import capfirst, slugify
from django.views.decorators.http import require_GET

from reports.csv_cells import csv_text
from reports.exports import csv_response

from .. import periods
from ..figures.forms import FiguresFilterForm
from ..rules import can
from ..views.common import paginate, query_without_page
from .models import Incident, Lead, MaintenanceWindow, RecordSource, ServiceRequest

# --- What a row shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    """One value of a row: text, or a moment (shown in the organisation's
    zone), and where the text links to; or several such values, a line each
    (``lines``; one CSV cell)."""

    text: str = ""
    moment: datetime | None = None
    url: str = ""
    lines: tuple[Cell, ...] = ()

    @property
    def parts(self) -> tuple[Cell, ...]:
        """What the page shows, a line each."""
        return self.lines or (self,)

    @property
    def csv(self) -> str:
        if self.lines:
            return csv_text("; ".join(line.text for line in self.lines))
        if self.moment is not None:
            return timezone.localtime(self.moment).isoformat()
        return csv_text(self.text)


@dataclass(frozen=True)
class Column:
    label: str
    name: str  # the CSV's header
    cell: Callable[[Any, Any], Cell]  # (record, user) → cell


def _text(attribute: str) -> Callable[[Any, Any], Cell]:
    return lambda record, user: Cell(str(getattr(record, attribute, "") or ""))


def _moment(attribute: str) -> Callable[[Any, Any], Cell]:
    return lambda record, user: Cell(moment=getattr(record, attribute, None))


def _kind(record: models.Model, user: Any) -> Cell:
    return Cell(capfirst(str(record._meta.verbose_name)))


def _impact(record: models.Model, user: Any) -> Cell:
    impact = getattr(record, "get_impact_display", None)
    return Cell(str(impact()) if impact else "")


def _component(record: Incident | MaintenanceWindow, user: Any) -> Cell:
    return Cell(record.component or "whole service")


def _pauses(record: ServiceRequest, user: Any) -> Cell:
    return Cell(str(record.pauses_count))  # type: ignore[attr-defined]


def _qualified(record: Lead, user: Any) -> Cell:
    return Cell("yes" if record.qualified else "no")


def _counted(record: Lead, user: Any) -> Cell:
    return Cell("no" if record.duplicate_of_id is not None else "yes")


def _also_sent(other: Lead, user: Any, *, counted: bool) -> Cell:
    """The same person's lead from another team: its id, source and
    hand-over, linked to it, for a person who may see its source; its team
    alone for anyone else, who could see no more on the source's pages."""
    there = "counted there" if counted else "not counted there"
    if not can(user, "view_record_source", other.source):
        return Cell(f"Also sent by {other.team}, {there}")
    handed_over = dateformat.format(timezone.localtime(other.started_at), "j M Y, H:i")
    query = urlencode({"month": FiguresFilterForm.ALL, "q": other.external_id})
    return Cell(
        f"Also sent by {other.team} as {other.external_id} ({other.source.name}, "
        f"handed over {handed_over}), {there}",
        url=f"{reverse('records:records', args=[other.source_id])}?{query}",
    )


def _duplicate(record: Lead, user: Any) -> Cell:
    """For a lead flagged as a duplicate, the lead counted; for a lead
    counted, those flagged as its duplicates."""
    if record.duplicate_of is not None:
        return _also_sent(record.duplicate_of, user, counted=True)
    flagged = record.duplicates.all()  # type: ignore[attr-defined]
    return Cell(lines=tuple(_also_sent(lead, user, counted=False) for lead in flagged))


ID = Column("Id", "external_id", _text("external_id"))
STARTED = Column("Started", "started_at", _moment("started_at"))


# --- The kinds of source ---------------------------------------------------------


@dataclass(frozen=True)
class Listed:
    """A model of record a source's page lists."""

    model: type[models.Model]
    related: tuple[str, ...] = ()
    # Rows counted per record, as ``<name>_count`` (a request's pauses).
    counts: tuple[str, ...] = ()
    # The field that holds the month a record counts in, where it keeps one
    # (a lead's); else the month it started in, in the organisation's zone.
    month_field: str = ""
    # Fields no column shows, left unread (a lead's raw row is long).
    deferred: tuple[str, ...] = ()
    # Related rows read for the rows shown, a query for all of them.
    prefetched: tuple[Prefetch, ...] = ()

    def in_month(self, month: date) -> Q:
        if self.month_field:
            return Q(**{self.month_field: month})
        return Q(
            started_at__gte=periods.month_start(month),
            started_at__lt=periods.month_end(month),
        )

    def rows(self) -> QuerySet:
        return (
            self.model._default_manager.select_related(*self.related)
            .prefetch_related(*self.prefetched)
            .defer(*self.deferred)
            .annotate(**{f"{name}_count": Count(name) for name in self.counts})
            .order_by("-started_at", "-pk")
        )


@dataclass(frozen=True)
class Flag:
    """A filter a kind adds: a checkbox that keeps the rows it names. With
    ``summary`` (singular words), the page's summary counts those rows among
    the ones shown and links to them."""

    name: str
    label: str
    condition: Q
    summary: str = ""


@dataclass(frozen=True)
class RecordList:
    listed: tuple[Listed, ...]
    columns: tuple[Column, ...]
    searched: tuple[str, ...] = ("external_id",)
    search_label: str = "Id"
    flags: tuple[Flag, ...] = ()


LISTS = {
    RecordSource.Kind.REQUESTS: RecordList(
        listed=(
            Listed(
                ServiceRequest, related=("provider", "consumer"), counts=("pauses",)
            ),
        ),
        columns=(
            ID,
            Column("Segment", "segment", _text("segment")),
            Column("Provider", "provider", _text("provider")),
            Column("Consumer", "consumer", _text("consumer")),
            STARTED,
            Column("First response", "first_response_at", _moment("first_response_at")),
            Column("Resolved", "resolved_at", _moment("resolved_at")),
            Column("Pauses", "pauses", _pauses),
        ),
    ),
    RecordSource.Kind.INCIDENTS: RecordList(
        listed=(Listed(Incident), Listed(MaintenanceWindow)),
        columns=(
            ID,
            Column("Kind", "kind", _kind),
            Column("Impact", "impact", _impact),
            Column("Component", "component", _component),
            STARTED,
            Column("Ended", "ended_at", _moment("ended_at")),
            Column("Reason", "reason", _text("reason")),
        ),
    ),
    RecordSource.Kind.LEADS: RecordList(
        listed=(
            Listed(
                Lead,
                related=("team", "duplicate_of__team", "duplicate_of__source__team"),
                month_field="month",
                deferred=("raw", "duplicate_of__raw"),
                prefetched=(
                    Prefetch(
                        "duplicates",
                        queryset=Lead.objects.select_related("team", "source__team")
                        .defer("raw")
                        .order_by("started_at", "pk"),
                    ),
                ),
            ),
        ),
        columns=(
            ID,
            Column("Name", "name", _text("name")),
            Column("Email", "email", _text("email")),
            Column("Company", "company", _text("company")),
            Column("Team", "team", _text("team")),
            Column("Handed over", "started_at", _moment("started_at")),
            Column("Stage", "stage", _text("stage_label")),
            Column("Status", "status", _text("status_label")),
            Column("Qualified", "qualified", _qualified),
            Column("First touch", "first_touch_at", _moment("first_touch_at")),
            Column("Counted", "counted", _counted),
            Column("Duplicate", "duplicate", _duplicate),
        ),
        searched=("external_id", "email"),
        search_label="Id or email",
        flags=(
            Flag("qualified", "Qualified only", Q(qualified=True)),
            Flag(
                "duplicates",
                "Flagged duplicates only",
                Q(duplicate_of__isnull=False),
                summary="flagged duplicate",
            ),
        ),
    ),
}


# --- The filters -----------------------------------------------------------------


class RecordsFilterForm(FiguresFilterForm):
    """The month (the current one unless another, or all, is asked for), a
    search, and the kind's own filters."""

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.TextInput(attrs={"class": "form-control", "type": "search"}),
    )

    def __init__(self, data: Any, *, records: RecordList) -> None:
        super().__init__(data)
        self.records = records
        self.fields["q"].label = f"Search by {records.search_label.lower()}"
        for flag in records.flags:
            self.fields[flag.name] = forms.BooleanField(
                required=False, label=flag.label
            )

    def chosen_month(self) -> date | None:
        # Each filter on its own: a search too long to read must not turn
        # the month into every month.
        self.is_valid()
        chosen = self.cleaned_data.get("month")
        if chosen == self.ALL:
            return None
        return periods.parse_month(chosen) if chosen else periods.current_month()

    @property
    def flag_fields(self) -> list[forms.BoundField]:
        return [self[flag.name] for flag in self.records.flags]

    def querysets(self, source: RecordSource) -> list[QuerySet]:
        """Each listed model's rows the filters keep, newest first."""
        month = self.chosen_month()
        text = (self.cleaned_data.get("q") or "").strip()
        wanted = [
            f.condition for f in self.records.flags if self.cleaned_data.get(f.name)
        ]
        if text:
            wanted.append(
                reduce(
                    or_,
                    (
                        Q(**{f"{name}__icontains": text})
                        for name in self.records.searched
                    ),
                )
            )
        return [
            listed.rows().filter(
                *wanted,
                *([listed.in_month(month)] if month is not None else []),
                source=source,
            )
            for listed in self.records.listed
        ]


# --- The rows --------------------------------------------------------------------


@dataclass
class Row:
    record: models.Model
    cells: list[Cell]
    history: list[Any]
    labels: list[str] = field(default_factory=list)  # the cells' columns

    @property
    def labelled(self) -> list[tuple[str, Cell]]:
        """(column, cell): on a phone each value is labelled by its column."""
        return list(zip(self.labels, self.cells, strict=True))


def _keys(querysets: list[QuerySet]) -> QuerySet:
    """Every listed row as (started, pk, which model), newest first: one
    query across the models, so that a page can be cut from it."""
    parts = [
        rows.order_by()
        .prefetch_related(None)
        .annotate(listed=Value(number, output_field=models.IntegerField()))
        .values_list("started_at", "pk", "listed")
        for number, rows in enumerate(querysets)
    ]
    keys = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return keys.order_by("-started_at", "-pk")


def _rows(
    records: RecordList, querysets: list[QuerySet], keys: Iterable[tuple], user: Any
) -> list[Row]:
    """The page's rows, each with its history (who sent it, when, why):
    two queries per model the page has rows of."""
    wanted: dict[int, list[int]] = defaultdict(list)
    for _started, pk, number in keys:
        wanted[number].append(pk)
    found: dict[tuple[int, int], models.Model] = {}
    history: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for number, pks in wanted.items():
        for record in querysets[number].filter(pk__in=pks):
            found[number, record.pk] = record
        model = records.listed[number].model
        entries = (
            model.history.filter(id__in=pks)  # type: ignore[attr-defined]
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )
        for entry in entries:
            history[number, entry.id].append(entry)
    rows = []
    labels = [str(column.label) for column in records.columns]
    for _started, pk, number in keys:
        record = found.get((number, pk))
        if record is None:  # deleted between the two queries
            continue
        cells = [column.cell(record, user) for column in records.columns]
        rows.append(
            Row(
                record=record,
                cells=cells,
                history=history[number, pk],
                labels=labels,
            )
        )
    return rows


@dataclass(frozen=True)
class Tally:
    """A summarised flag's rows among those shown, and the query that shows
    only them."""

    count: int
    words: str
    query: str


def _tallies(
    records: RecordList, querysets: list[QuerySet], request: HttpRequest
) -> list[Tally]:
    """The rows of each flag with a summary among those the filters keep:
    one query per listed model."""
    flags = [flag for flag in records.flags if flag.summary]
    if not flags:
        return []
    counts = [
        rows.order_by().aggregate(
            **{flag.name: Count("pk", filter=flag.condition) for flag in flags}
        )
        for rows in querysets
    ]
    tallies = []
    for flag in flags:
        query = request.GET.copy()
        query.pop("page", None)
        query[flag.name] = "on"
        tallies.append(
            Tally(
                count=sum(count[flag.name] for count in counts),
                words=flag.summary,
                query=query.urlencode(),
            )
        )
    return tallies


def _merged(querysets: list[QuerySet]) -> Iterator[models.Model]:
    """Every listed row, newest first, read in chunks: the CSV's rows."""
    return heapq.merge(
        *(rows.iterator(chunk_size=2000) for rows in querysets),
        key=lambda record: (record.started_at, record.pk),
        reverse=True,
    )


# --- The page --------------------------------------------------------------------


def _visible_source(request: HttpRequest, pk: int) -> RecordSource:
    """404 for a source the person may not see."""
    source = get_object_or_404(
        RecordSource.objects.visible_to(request.user).select_related("team"), pk=pk
    )
    if not can(request.user, "view_record_source", source):
        raise Http404("No such source.")
    return source


@require_GET
@login_required
def source_records(request: HttpRequest, pk: int) -> HttpResponse:
    """The source's records, as a page or (``?format=csv``) a CSV of every
    row the filters keep."""
    source = _visible_source(request, pk)
    records = LISTS[RecordSource.Kind(source.kind)]
    form = RecordsFilterForm(request.GET, records=records)
    month = form.chosen_month()
    querysets = form.querysets(source)
    if request.GET.get("format") == "csv":
        return _csv(source, records, querysets, month, request.user)
    page = paginate(request, _keys(querysets))
    keys = list(page.object_list)
    download = request.GET.copy()
    download.pop("page", None)
    download["format"] = "csv"
    return render(
        request,
        "records/records.html",
        {
            "source": source,
            "records": records,
            "form": form,
            "month": month,
            "page": page,
            "rows": _rows(records, querysets, keys, request.user),
            "tallies": _tallies(records, querysets, request),
            "filter_query": query_without_page(request),
            "csv_query": download.urlencode(),
            "may_import": can(request.user, "send_records", source),
        },
    )


def _csv(
    source: RecordSource,
    records: RecordList,
    querysets: list[QuerySet],
    month: date | None,
    user: Any,
) -> HttpResponse:
    when = periods.format_month(month) if month is not None else "all-months"
    name = slugify(source.name) or "source"
    return csv_response(
        f"records-{name}-{when}.csv",
        [column.name for column in records.columns],
        (
            [column.cell(record, user).csv for column in records.columns]
            for record in _merged(querysets)
        ),
    )
