"""Forms: they turn posted text into values and show errors; the services do
every write and check every rule."""

from .agreements import (
    MAX_OBJECTIVES,
    NOTE_MAX_LENGTH,
    OBJECTIVES_PREFIX,
    AgreementFilterForm,
    AgreementForm,
    BaseObjectiveFormSet,
    NoteForm,
    ObjectiveForm,
    SignForm,
    objective_formset,
    objective_initial,
)
from .common import ClientTokenForm, DateInput, MonthField, ReasonForm

__all__ = [
    "MAX_OBJECTIVES",
    "NOTE_MAX_LENGTH",
    "OBJECTIVES_PREFIX",
    "AgreementFilterForm",
    "AgreementForm",
    "BaseObjectiveFormSet",
    "ClientTokenForm",
    "DateInput",
    "MonthField",
    "NoteForm",
    "ObjectiveForm",
    "ReasonForm",
    "SignForm",
    "objective_formset",
    "objective_initial",
]
