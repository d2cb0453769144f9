from .agreements import SIGNED, Agreement, Objective, Signature, Terms, in_force_q
from .friction import FrictionComment, FrictionReport
from .pain_points import PainPoint
from .submissions import ClosedCustomer, LeadLogEntry, Measurement
from .teams import Membership, Team

__all__ = [
    "SIGNED",
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
    "Terms",
    "in_force_q",
]
