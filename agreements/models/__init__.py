from .agreements import Agreement, Objective, Signature
from .friction import FrictionComment, FrictionReport
from .pain_points import PainPoint
from .submissions import ClosedCustomer, LeadLogEntry, Measurement
from .teams import Membership, Team

__all__ = [
    "Agreement",
    "ClosedCustomer",
    "FrictionComment",
    "FrictionReport",
    "LeadLogEntry",
    "Measurement",
    "Membership",
    "Objective",
    "PainPoint",
    "Signature",
    "Team",
]
