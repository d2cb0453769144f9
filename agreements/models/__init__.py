from .agreements import Agreement, Objective, Signature
from .teams import Membership, Team

__all__ = ["Agreement", "Membership", "Objective", "Signature", "Team"]
