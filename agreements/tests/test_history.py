"""Every change kept with who and when: the history managers."""

from __future__ import annotations

import pytest

from agreements.models import Agreement, Objective, Team

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Agreement, Objective, Team])
def test_a_models_history_manager_class_is_made_once(model):
    assert type(model.history) is type(model.history)
    assert model.history.model is model.history.model


def test_an_instances_history_is_its_own(marketing, sales):
    marketing.name = "Marketing and Brand"
    marketing.save()

    assert [row.name for row in marketing.history.all()] == [
        "Marketing and Brand",
        "Marketing",
    ]
    assert [row.name for row in sales.history.all()] == [sales.name]
    assert Team.history.filter(name="Marketing and Brand").count() == 1
    # The queryset's own methods are on the manager.
    assert marketing.history.as_of(marketing.history.earliest().history_date).name == (
        "Marketing"
    )
