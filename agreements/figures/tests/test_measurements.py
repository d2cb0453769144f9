from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from agreements.figures.measurements import (
    measurement_correct,
    measurement_create,
    measurement_delete,
    measurement_update,
)
from agreements.models import Agreement, Measurement, Objective
from agreements.rules import can
from agreements.tests.factories import (
    AgreementFactory,
    MeasurementFactory,
    ObjectiveFactory,
)
from agreements.tests.moments import LOCKED_MONTH, NEXT_MONTH, THIS_MONTH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def _written():
    return Measurement.objects.count(), Measurement.history.count()


def _measure(objective, user, value, month=THIS_MONTH, **kwargs):
    return measurement_create(
        objective=objective, user=user, month=month, value=value, **kwargs
    )


def test_the_providers_lead_enters_a_measurement(chain, service_lead):
    measurement = _measure(chain.uptime, service_lead, "99.40", note="One outage")
    measurement.refresh_from_db()
    assert measurement.value == Decimal("99.40")
    assert measurement.month == THIS_MONTH
    assert measurement.created_by == service_lead
    record = measurement.history.get()
    assert (record.history_user, record.history_change_reason) == (
        service_lead,
        "measured",
    )


def test_any_day_of_the_month_means_the_month(chain, service_lead):
    measurement = _measure(chain.uptime, service_lead, 99, month=dt.date(2026, 3, 9))
    assert measurement.month == THIS_MONTH


def test_the_consumer_cannot_enter_the_providers_measurement(
    chain, sales_lead, service, outsider, executive
):
    for user in (sales_lead, outsider, executive):
        with pytest.raises(PermissionDenied):
            _measure(chain.uptime, user, 99)
    assert _written() == (0, 0)
    assert not can(sales_lead, "submit_figures", chain.uptime)


@pytest.mark.parametrize(
    ("objective", "value", "message"),
    [
        ("uptime", "100.01", "A percentage must be between 0 and 100."),
        ("uptime", "-0.5", "A percentage must be between 0 and 100."),
        ("response_hours", "-1", "Hours cannot be negative."),
        ("count", "-2", "A count cannot be negative."),
        ("money", "-10", "An amount cannot be negative."),
        ("uptime", "ninety", "must be a decimal number"),
    ],
)
def test_a_value_outside_its_units_range_is_refused(
    chain, service_head, objective, value, message
):
    if objective in ("count", "money"):
        target = ObjectiveFactory(
            agreement=chain.care,
            metric_source=Objective.Source.MANUAL,
            unit=objective,
        )
    else:
        target = getattr(chain, objective)
    with pytest.raises(ValidationError) as caught:
        _measure(target, service_head, value)
    assert message in caught.value.message_dict["value"][0]
    assert _written() == (0, 0)


@pytest.mark.parametrize("value", ["0", "100", "99.99"])
def test_the_ends_of_a_percentage_are_allowed(chain, service_lead, value):
    assert _measure(chain.uptime, service_lead, value).value == Decimal(value)


def test_hours_have_no_upper_bound(chain, service_lead):
    assert _measure(chain.response_hours, service_lead, "250").value == 250


def test_a_counted_objective_takes_no_measurement(chain, marketing_lead):
    with pytest.raises(ValidationError) as caught:
        _measure(chain.leads_delivered, marketing_lead, 10)
    assert (
        "is counted from leads delivered" in caught.value.message_dict["objective"][0]
    )
    assert _written() == (0, 0)


def test_a_second_measurement_for_the_month_points_to_the_first(chain, service_lead):
    first = _measure(chain.uptime, service_lead, "99.5")
    with pytest.raises(ValidationError) as caught:
        _measure(chain.uptime, service_lead, "98")
    error = caught.value.error_dict["month"][0]
    assert error.code == "duplicate"
    assert error.params["pk"] == first.pk
    assert caught.value.message_dict["month"] == [
        "“Uptime” already has a measurement for March 2026 (99.5). Edit that one "
        "instead of adding a second."
    ]
    assert _written() == (1, 1)


def test_the_database_allows_one_measurement_per_objective_and_month(chain):
    MeasurementFactory(objective=chain.uptime, month=THIS_MONTH)
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(objective=chain.uptime, month=THIS_MONTH)


def test_the_database_refuses_a_negative_measurement(chain):
    with pytest.raises(IntegrityError), transaction.atomic():
        MeasurementFactory(objective=chain.uptime, value=Decimal("-1"))


def test_a_future_or_locked_month_is_refused(chain, service_lead):
    with pytest.raises(ValidationError) as caught:
        _measure(chain.uptime, service_lead, 99, month=NEXT_MONTH)
    assert caught.value.error_dict["month"][0].code == "future_month"
    with pytest.raises(ValidationError) as caught:
        _measure(chain.uptime, service_lead, 99, month=LOCKED_MONTH)
    assert caught.value.error_dict["month"][0].code == "locked"
    assert _written() == (0, 0)


def test_a_draft_agreements_objective_takes_no_measurement(
    service, sales, service_lead
):
    draft = AgreementFactory(
        provider=service, consumer=sales, status=Agreement.Status.DRAFT
    )
    objective = ObjectiveFactory(
        agreement=draft, metric_source=Objective.Source.MANUAL, unit="percent"
    )
    with pytest.raises(ValidationError) as caught:
        _measure(objective, service_lead, 99)
    assert "draft" in caught.value.message_dict["objective"][0]
    assert _written() == (0, 0)


def test_a_month_before_the_agreement_took_effect_takes_no_measurement(
    service, sales, service_lead
):
    later = AgreementFactory(
        provider=service, consumer=sales, effective_from=dt.date(2026, 4, 1)
    )
    objective = ObjectiveFactory(
        agreement=later, metric_source=Objective.Source.MANUAL, unit="hours"
    )
    with pytest.raises(ValidationError) as caught:
        _measure(objective, service_lead, 2)
    assert "is not in force in March 2026" in caught.value.message_dict["month"][0]


def test_a_measurement_is_edited_while_the_month_is_open(chain, service_lead):
    measurement = _measure(chain.uptime, service_lead, "99.5")
    measurement_update(
        measurement=measurement, user=service_lead, value=Decimal("99.1")
    )
    measurement.refresh_from_db()
    assert measurement.value == Decimal("99.1")
    assert measurement.history.first().history_change_reason == (
        "edited: value 99.5 → 99.1"
    )
    with pytest.raises(ValidationError):
        measurement_update(measurement=measurement, user=service_lead, value="101")
    measurement.refresh_from_db()
    assert measurement.value == Decimal("99.1")


def test_a_measurement_is_deleted_while_the_month_is_open(chain, service_lead):
    measurement = _measure(chain.uptime, service_lead, "99.5")
    measurement_delete(measurement=measurement, user=service_lead)
    assert not Measurement.objects.exists()
    assert Measurement.history.first().history_type == "-"


def test_a_locked_measurement_is_only_corrected_by_a_head(
    chain, service_lead, service_head
):
    measurement = MeasurementFactory(
        objective=chain.uptime, month=LOCKED_MONTH, value=Decimal("97")
    )
    with pytest.raises(ValidationError):
        measurement_update(
            measurement=measurement, user=service_lead, value=Decimal("98")
        )
    with pytest.raises(PermissionDenied):
        measurement_correct(
            measurement=measurement, user=service_lead, reason="x", value=98
        )
    measurement_correct(
        measurement=measurement,
        user=service_head,
        reason="monitoring missed a maintenance window",
        value=Decimal("98.2"),
    )
    measurement.refresh_from_db()
    assert measurement.value == Decimal("98.2")
    assert measurement.history.first().history_change_reason == (
        "correction: monitoring missed a maintenance window (value 97 → 98.2)"
    )


def test_a_correction_adds_a_forgotten_measurement(chain, service_head):
    measurement = measurement_correct(
        objective=chain.uptime,
        month=LOCKED_MONTH,
        user=service_head,
        reason="entered after the deadline",
        value=Decimal("99.9"),
    )
    assert measurement.month == LOCKED_MONTH
    assert measurement.history.get().history_change_reason == (
        "correction: entered after the deadline (added late)"
    )


def test_a_late_measurement_still_cannot_be_a_duplicate(chain, service_head):
    first = MeasurementFactory(objective=chain.uptime, month=LOCKED_MONTH)
    with pytest.raises(ValidationError) as caught:
        measurement_correct(
            objective=chain.uptime,
            month=LOCKED_MONTH,
            user=service_head,
            reason="again",
            value=Decimal("99"),
        )
    assert caught.value.error_dict["month"][0].params["pk"] == first.pk


def test_measurements_are_read_by_both_parties_and_executives(
    chain, sales_member, service_lead, marketing_lead, executive, outsider
):
    measurement = MeasurementFactory(objective=chain.uptime)
    visible = Measurement.objects.visible_to
    assert list(visible(service_lead)) == [measurement]
    assert list(visible(sales_member)) == [measurement]
    assert list(visible(executive)) == [measurement]
    assert not visible(marketing_lead).exists()
    assert not visible(outsider).exists()
    assert can(sales_member, "view_submission", measurement)
    assert not can(marketing_lead, "view_submission", measurement)
    assert list(Measurement.objects.for_month(THIS_MONTH)) == [measurement]
