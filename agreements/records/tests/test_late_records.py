"""Records of a locked month go through the correction flow: a head of the
source's team sends them, with a reason the history keeps, and the month's
stored scorecards are finalised again to count them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from agreements.calendars.services import calendar_create
from agreements.records.models import Incident, RequestPause, ServiceRequest
from agreements.records.rows import RecordsInvalid
from agreements.records.services import records_upsert
from agreements.selectors import corrections_for_agreement
from agreements.tests.builders import active, objective_row
from agreements.tests.moments import local
from reports.models import Breach, Scorecard, ScorecardLine
from reports.services import scorecards_finalise

pytestmark = pytest.mark.django_db

JUNE = date(2026, 6, 1)
# 10 July 2026: June locked on 3 July, July is running.
JULY_10 = datetime(2026, 7, 10, 9, 0, tzinfo=UTC)
LOCKED = (
    "Row {row}, started_at: June 2026 is locked: a head of Customer Service can "
    "send it, with a reason."
)


@pytest.fixture(autouse=True)
def _july():
    with time_machine.travel(JULY_10, tick=False):
        yield


def june_request(external_id: str, **fields):
    return {
        "external_id": external_id,
        "started_at": "2026-06-10T10:00:00+02:00",
        "first_response_at": "2026-06-10T11:00:00+02:00",
        "updated_at": "2026-06-10T11:00:00+02:00",
        **fields,
    }


def july_request(external_id: str, **fields):
    return june_request(
        external_id,
        **{
            "started_at": "2026-07-08T10:00:00+02:00",
            "first_response_at": "2026-07-08T11:00:00+02:00",
            "updated_at": "2026-07-08T11:00:00+02:00",
            **fields,
        },
    )


def june_outage(external_id: str, hours: int = 10, **fields):
    return {
        "external_id": external_id,
        "impact": "major",
        "started_at": "2026-06-20T08:00:00+02:00",
        "ended_at": f"2026-06-20T{8 + hours:02d}:00:00+02:00",
        "updated_at": f"2026-06-20T{8 + hours:02d}:00:00+02:00",
        **fields,
    }


def written() -> tuple[int, ...]:
    return (
        ServiceRequest.objects.count(),
        ServiceRequest.history.count(),
        RequestPause.history.count(),
        Incident.objects.count(),
        Incident.history.count(),
    )


def test_a_lead_cannot_send_records_of_a_locked_month(helpdesk, service_lead):
    before = written()
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(
            source=helpdesk,
            rows=[july_request("R-1"), june_request("R-2"), june_request("R-3")],
            user=service_lead,
            reason="The export missed them",
        )
    assert caught.value.messages == [LOCKED.format(row=2), LOCKED.format(row=3)]
    assert [(p.row, p.field) for p in caught.value.problems] == [
        (2, "started_at"),
        (3, "started_at"),
    ]
    # Nothing of the batch, not even its open month's row.
    assert written() == before


def test_a_head_must_say_why_records_come_late(helpdesk, service_head):
    before = written()
    for reason in ("", "   "):
        with pytest.raises(RecordsInvalid) as caught:
            records_upsert(
                source=helpdesk,
                rows=[june_request("R-1")],
                user=service_head,
                reason=reason,
            )
        assert caught.value.messages == [
            "Row 1, started_at: June 2026 is locked: say why it is sent late "
            "(reason): the reason is kept in the record's history."
        ]
    assert written() == before


def test_a_head_sends_late_records_with_a_reason_kept_in_their_history(
    helpdesk, service_head
):
    pause = {
        "started_at": "2026-06-10T10:10+02:00",
        "ended_at": "2026-06-10T10:20+02:00",
    }
    report = records_upsert(
        source=helpdesk,
        rows=[june_request("R-1", pauses=[pause]), july_request("R-2")],
        user=service_head,
        reason="  The helpdesk export skipped the 10th  ",
    )
    assert (report.created, report.updated, report.recomputed) == (2, 0, [])
    late = ServiceRequest.objects.get(external_id="R-1").history.get()
    assert late.history_user == service_head
    assert late.history_change_reason == (
        "correction: The helpdesk export skipped the 10th (sent late to Helpdesk)"
    )
    assert RequestPause.history.get().history_change_reason == (
        late.history_change_reason
    )
    # A record of the open month keeps the usual reason.
    on_time = ServiceRequest.objects.get(external_id="R-2").history.get()
    assert on_time.history_change_reason == "received from Helpdesk"


def test_a_late_update_needs_a_head_too_and_keeps_the_reason(helpdesk, service_head):
    with time_machine.travel(datetime(2026, 6, 20, tzinfo=UTC), tick=False):
        records_upsert(source=helpdesk, rows=[june_request("R-1")])
    resolved = june_request(
        "R-1",
        resolved_at="2026-06-11T09:00:00+02:00",
        updated_at="2026-06-11T09:00:00+02:00",
    )
    with pytest.raises(RecordsInvalid):
        records_upsert(source=helpdesk, rows=[resolved], user=service_head)
    report = records_upsert(
        source=helpdesk, rows=[resolved], user=service_head, reason="Closed late"
    )
    assert report.updated == 1
    request = ServiceRequest.objects.get()
    assert request.resolved_at == datetime(2026, 6, 11, 7, tzinfo=UTC)
    assert request.history.first().history_change_reason == (
        "correction: Closed late (sent late to Helpdesk)"
    )


def test_moving_a_record_out_of_a_locked_month_is_a_late_change(helpdesk, service_lead):
    with time_machine.travel(datetime(2026, 6, 20, tzinfo=UTC), tick=False):
        records_upsert(source=helpdesk, rows=[june_request("R-1")])
    moved = july_request("R-1", updated_at="2026-07-08T12:00:00+02:00")
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=helpdesk, rows=[moved], user=service_lead)
    assert caught.value.messages == [LOCKED.format(row=1)]
    assert ServiceRequest.objects.get().started_at.month == 6


def test_records_of_a_locked_month_sent_again_unchanged_or_stale_are_no_writes(
    helpdesk, service_lead
):
    """A feed re-sending its last weeks keeps working once a month locks."""
    with time_machine.travel(datetime(2026, 6, 20, tzinfo=UTC), tick=False):
        records_upsert(source=helpdesk, rows=[june_request("R-1")], user=service_lead)
    older = june_request("R-1", segment="P1", updated_at="2026-06-10T10:30:00+02:00")
    report = records_upsert(
        source=helpdesk,
        rows=[june_request("R-1"), july_request("R-2")],
        user=service_lead,
    )
    assert (report.created, report.unchanged) == (1, 1)
    report = records_upsert(source=helpdesk, rows=[older], user=service_lead)
    assert report.stale == 1


def test_an_incident_overlapping_a_locked_month_is_late(status_page, service_lead):
    """From 30 June into July: it changes June's availability too."""
    across = june_outage(
        "I-1",
        started_at="2026-06-30T22:00:00+02:00",
        ended_at="2026-07-01T02:00:00+02:00",
        updated_at="2026-07-01T02:00:00+02:00",
    )
    still_open = {**across, "external_id": "I-2", "ended_at": None}
    maintenance = {
        "type": "maintenance",
        "external_id": "M-1",
        "started_at": "2026-06-30T23:00:00+02:00",
        "ended_at": "2026-07-01T01:00:00+02:00",
        "reason": "Database upgrade",
        "updated_at": "2026-06-25T09:00:00+02:00",
    }
    # Starts at the midnight that starts July (on the organisation's clock).
    july_only = june_outage(
        "I-3",
        started_at=local(2026, 7, 1).isoformat(),
        ended_at=local(2026, 7, 1, 2).isoformat(),
    )
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(
            source=status_page,
            rows=[across, still_open, maintenance, july_only],
            user=service_lead,
        )
    assert [p.row for p in caught.value.problems] == [1, 2, 3]
    assert not Incident.objects.exists()


def test_someone_who_does_not_lead_the_team_cannot_send_its_records(
    helpdesk, sales_lead
):
    with pytest.raises(PermissionDenied):
        records_upsert(source=helpdesk, rows=[july_request("R-1")], user=sales_lead)
    assert not ServiceRequest.objects.exists()


def test_the_system_sends_any_month_and_a_webhook_keeps_to_open_ones(helpdesk):
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(source=helpdesk, rows=[june_request("R-1")], enforce_lock=True)
    assert caught.value.messages == [LOCKED.format(row=1)]
    report = records_upsert(source=helpdesk, rows=[june_request("R-1")])
    assert report.created == 1
    assert ServiceRequest.objects.get().history.get().history_change_reason == (
        "received from Helpdesk"
    )


def test_a_date_outside_the_years_the_portal_keeps_is_a_row_problem(helpdesk):
    with pytest.raises(RecordsInvalid) as caught:
        records_upsert(
            source=helpdesk,
            rows=[june_request("R-1", started_at="0001-01-01T00:00:00+05:00")],
        )
    assert caught.value.messages == [
        "Row 1, started_at: 0001-01-01T00:00:00+05:00 is outside the dates the "
        "portal keeps (2000-01-01 to 2100-12-31)."
    ]


# --- The finalised scorecard follows -----------------------------------------


@pytest.fixture
def uptime(service_lead, sales_lead, service, sales, status_page):
    """Customer Service promises Sales 99 % uptime, measured from the status
    page around the clock; signed in May, in force since January."""
    calendar = calendar_create(
        name="Always, Berlin", time_zone="Europe/Berlin", always=True
    )
    with time_machine.travel(datetime(2026, 5, 20, 9, 0, tzinfo=UTC)):
        return active(
            user=service_lead,
            other_signer=sales_lead,
            provider=service,
            consumer=sales,
            effective_from=date(2026, 1, 1),
            objectives=[
                objective_row(
                    "Portal uptime",
                    metric_source="availability",
                    unit="percent",
                    target=Decimal(99),
                    measure={"source": status_page, "calendar": calendar},
                )
            ],
        )


def test_late_records_refresh_the_finalised_scorecard(
    uptime, status_page, service_head
):
    scorecards_finalise(month=JUNE)
    line = ScorecardLine.objects.get(scorecard__agreement=uptime, scorecard__month=JUNE)
    assert (line.actual, line.status) == (Decimal(100), "met")

    # Ten hours down out of June's 720: 98.61 %.
    report = records_upsert(
        source=status_page,
        rows=[june_outage("I-1", hours=10)],
        user=service_head,
        reason="The status page lost the 20 June outage",
    )

    assert (report.recomputed, report.late, report.late_rows) == ([JUNE], [JUNE], 1)
    line.refresh_from_db()
    assert (line.actual, line.status) == (Decimal("98.61"), "missed")
    scorecard = Scorecard.objects.get(agreement=uptime, month=JUNE)
    assert scorecard.status == "missed"
    assert scorecard.recomputed_at == JULY_10
    assert scorecard.history.first().history_change_reason == (
        "correction: The status page lost the 20 June outage (records sent late "
        "to Status page)"
    )
    assert Breach.objects.get(line=line).month == JUNE
    # Sent again, nothing changes and nothing is recomputed.
    again = records_upsert(
        source=status_page,
        rows=[june_outage("I-1", hours=10)],
        user=service_head,
        reason="The status page lost the 20 June outage",
    )
    assert (again.unchanged, again.recomputed) == (1, [])
    assert scorecard.history.count() == 2


def test_a_locked_month_not_finalised_yet_is_left_to_the_month_close(
    uptime, status_page, service_head
):
    report = records_upsert(
        source=status_page,
        rows=[june_outage("I-1")],
        user=service_head,
        reason="Lost outage",
    )
    assert report.recomputed == []
    assert not Scorecard.objects.exists()


def test_late_records_are_listed_with_the_agreements_corrections(
    uptime, status_page, helpdesk, service_head
):
    records_upsert(
        source=status_page,
        rows=[
            june_outage("I-1", hours=10),
            {
                **june_outage("I-2", hours=1),
                "started_at": "2026-07-02T08:00:00+02:00",
                "ended_at": "2026-07-02T09:00:00+02:00",
            },
        ],
        user=service_head,
        reason="The status page lost the 20 June outage",
    )
    # Another source's late records are not this agreement's.
    records_upsert(
        source=helpdesk, rows=[june_request("R-1")], user=service_head, reason="Late"
    )

    (correction,) = corrections_for_agreement(uptime)
    assert (correction.kind, correction.month, correction.action) == (
        "incident",
        JUNE,
        "added",
    )
    assert correction.user == service_head
    assert correction.reason.startswith(
        "correction: The status page lost the 20 June outage"
    )
