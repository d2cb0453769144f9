"""Forms of the friction pages and the knowledge base. The services in
``agreements.services.friction`` and ``.pain_points`` check every rule."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from .. import periods
from ..forms.common import ClientTokenForm, DateInput, ReasonForm
from ..models import FrictionReport, PainPoint
from .models import COMMENT_MAX_LENGTH, TAGS_MAX_LENGTH

FRICTION_FIELDS = (
    "customer",
    "category",
    "severity",
    "description",
    "business_impact",
    "suggested_action",
    "tags",
)


def open_months(now=None) -> list:
    """Months a report can be filed for: this one, and last month while it
    is still in its grace period."""
    month = periods.current_month(now)
    previous = periods.previous_month(month)
    return [month, previous] if periods.in_grace(previous, now) else [month]


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class FrictionReportFieldsForm(forms.Form):
    customer = forms.CharField(
        max_length=200, help_text="The customer who runs into the problem."
    )
    category = forms.ChoiceField(
        choices=[("", "Choose…"), *FrictionReport.Category.choices]
    )
    severity = forms.ChoiceField(
        choices=FrictionReport.Severity.choices,
        initial=FrictionReport.Severity.MEDIUM,
        help_text="Critical: the customer may leave or cannot work.",
    )
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer runs into, in their words if you can.",
    )
    business_impact = forms.CharField(
        label="Business impact",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Revenue at risk, deals stalled, churn signals…",
    )
    suggested_action = forms.CharField(
        label="Suggested action",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    tags = forms.CharField(
        max_length=TAGS_MAX_LENGTH,
        required=False,
        help_text="Comma-separated, e.g. “invoices, late payment”.",
    )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FRICTION_FIELDS}


class FrictionReportForm(FrictionReportFieldsForm, ClientTokenForm):
    """A new report: who files it, for whom, for which month."""

    reporting_team = TeamChoiceField(
        queryset=None,
        label="Reported by",
        empty_label=None,
        help_text="The team filing the report.",
    )
    addressed_team = TeamChoiceField(
        queryset=None,
        label="Addressed to",
        empty_label="Choose the team…",
        help_text="Its head receives the report.",
    )
    month = forms.ChoiceField(help_text="The month the report is filed for.")

    field_order = [
        "reporting_team",
        "addressed_team",
        "month",
        "customer",
        "category",
        "severity",
        "description",
        "business_impact",
        "suggested_action",
        "tags",
    ]

    def __init__(self, *args: Any, reporting_teams, addressed_teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reporting_team"].queryset = reporting_teams
        self.fields["addressed_team"].queryset = addressed_teams
        self.fields["month"].choices = [
            (periods.format_month(m), periods.month_label(m)) for m in open_months()
        ]

    def clean_month(self):
        return periods.parse_month(self.cleaned_data["month"])

    def values(self) -> dict[str, Any]:
        return {
            **super().values(),
            "addressed_team": self.cleaned_data["addressed_team"],
            "month": self.cleaned_data["month"],
        }


class FrictionReportCorrectForm(FrictionReportFieldsForm, ReasonForm):
    pass


# What the button that moves a report to each status says.
STATUS_ACTIONS = {
    FrictionReport.Status.ACKNOWLEDGED: "Acknowledge",
    FrictionReport.Status.IN_PROGRESS: "Start work on it",
    FrictionReport.Status.RESOLVED: "Mark resolved",
    FrictionReport.Status.WONT_FIX: "Won't fix",
}


class CommentForm(forms.Form):
    """The report page's one text box: a comment, or the note that goes with
    a status change (then optional, except for won't fix)."""

    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=COMMENT_MAX_LENGTH,
        error_messages={
            "required": "Write a comment.",
            "max_length": f"A comment can be at most {COMMENT_MAX_LENGTH} "
            "characters; this one has %(show_value)d. Shorten it, or say the rest "
            "in a second comment.",
        },
    )

    def __init__(self, *args: Any, moves_status: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if moves_status:
            body = self.fields["body"]
            body.required = False
            body.help_text = (
                "Both teams read it. Optional when you move the report on (it "
                "goes with the move); say why when it will not be fixed."
            )
        else:
            self.fields["body"].help_text = "Both teams read it."


class StatusForm(CommentForm):
    status = forms.ChoiceField(label="New status")

    def __init__(self, *args: Any, report: FrictionReport, **kwargs: Any) -> None:
        super().__init__(*args, moves_status=True, **kwargs)
        allowed = report.allowed_transitions()
        # The page offers the moves the workflow allows; a posted status is
        # any status, so that the service explains a move that is not allowed
        # (the report may have moved on since the page was loaded).
        self.fields["status"].choices = [
            (value, label)
            for value, label in FrictionReport.Status.choices
            if self.is_bound or value in allowed
        ]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class AssignForm(forms.Form):
    """Who in the addressed team looks after a report, and by when."""

    assignee = PersonChoiceField(
        queryset=None,
        required=False,
        label="Assigned to",
        empty_label="Nobody yet",
    )
    due_date = forms.DateField(
        required=False,
        label="Due by",
        widget=DateInput(),
        error_messages={"invalid": "Enter a day like 1 Dec 2026."},
        help_text="Past this day and not resolved, both teams see it as overdue.",
    )

    def __init__(
        self, *args: Any, report: FrictionReport, assignees, **kwargs: Any
    ) -> None:
        kwargs.setdefault(
            "initial", {"assignee": report.assigned_to_id, "due_date": report.due_date}
        )
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = assignees
        field.error_messages["invalid_choice"] = (
            f"Choose a member of {report.addressed_team.name}: only they can be "
            "assigned it."
        )


class PainPointChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PainPoint) -> str:
        return obj.title


class LinkForm(forms.Form):
    """File a report under a pain point, a new one, or none."""

    pain_point = PainPointChoiceField(
        queryset=PainPoint.objects.current(),
        required=False,
        empty_label="— Not filed under a pain point —",
        label="Pain point",
    )
    new_title = forms.CharField(
        label="Or a new pain point",
        max_length=150,
        required=False,
        help_text="A short name for the problem, e.g. “Invoices in the wrong "
        "currency”.",
    )
    new_category = forms.ChoiceField(
        label="Its category",
        choices=PainPoint.Category.choices,
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned["new_title"] = (cleaned.get("new_title") or "").strip()
        if cleaned["new_title"] and cleaned.get("pain_point"):
            raise ValidationError(
                "Choose an existing pain point or name a new one, not both."
            )
        return cleaned


class FrictionFilterForm(forms.Form):
    BOXES = [
        ("", "All reports I can see"),
        ("filed", "Filed by my teams"),
        ("received", "Addressed to my teams"),
    ]

    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Customer, description…"}),
    )
    box = forms.ChoiceField(choices=BOXES, required=False, label="Reports")
    status = forms.ChoiceField(
        choices=[("", "Any status"), *FrictionReport.Status.choices], required=False
    )
    category = forms.ChoiceField(
        choices=[("", "Any category"), *FrictionReport.Category.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        choices=[("", "Any severity"), *FrictionReport.Severity.choices],
        required=False,
    )
    tag = forms.CharField(required=False, max_length=40)


class KnowledgeFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=200,
        label="Search",
        widget=forms.SearchInput(attrs={"placeholder": "Search pain points…"}),
    )
    category = forms.ChoiceField(
        choices=[("", "Any category"), *PainPoint.Category.choices], required=False
    )
    tag = forms.CharField(required=False, max_length=40)
    severity = forms.ChoiceField(
        choices=[("", "Any severity"), *FrictionReport.Severity.choices],
        required=False,
    )
    status = forms.ChoiceField(
        choices=[("", "Any status"), *FrictionReport.Status.choices], required=False
    )


class PainPointForm(forms.Form):
    title = forms.CharField(max_length=150)
    category = forms.ChoiceField(choices=PainPoint.Category.choices)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What customers run into, and what is known about the cause.",
    )


class MergeForm(forms.Form):
    target = PainPointChoiceField(
        queryset=PainPoint.objects.none(),
        label="Merge into",
        empty_label="Choose the pain point to keep…",
        error_messages={"required": "Choose the pain point to merge into."},
    )
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, source: PainPoint, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            PainPoint.objects.current().exclude(pk=source.pk).order_by("title")
        )
