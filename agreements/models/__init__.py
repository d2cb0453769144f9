from ..calendars.models import Holiday, WorkingCalendar, WorkingInterval
from ..figures.models import ClosedCustomer, LeadLogEntry, Measurement
from ..friction.knowledge_models import PainPoint
from ..friction.models import FrictionComment, FrictionReport
from ..records.models import (
    Incident,
    Lead,
    MaintenanceWindow,
    RecordMeasure,
    RecordSource,
    RequestPause,
    ServiceRequest,
)
from .agreements import (
    SIGNED,
    Agreement,
    Objective,
    Signature,
    Terms,
    in_force_q,
    in_force_test,
)
from .teams import Membership, Team

__all__ = [
    "SIGNED",
    "Agreement",
    "ClosedCustomer",
    "FrictionComment",
    "FrictionReport",
    "Holiday",
    "Incident",
    "Lead",
    "LeadLogEntry",
    "MaintenanceWindow",
    "Measurement",
    "Membership",
    "Objective",
    "PainPoint",
    "RecordMeasure",
    "RecordSource",
    "RequestPause",
    "ServiceRequest",
    "Signature",
    "Team",
    "Terms",
    "WorkingCalendar",
    "WorkingInterval",
    "in_force_q",
    "in_force_test",
]
