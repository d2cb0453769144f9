"""Every write with rules or side effects, as ``<entity>_<verb>`` functions."""

from .agreements import (
    agreement_create,
    agreement_propose,
    agreement_request_changes,
    agreement_retire,
    agreement_revise,
    agreement_sign,
    agreement_update,
)

__all__ = [
    "agreement_create",
    "agreement_propose",
    "agreement_request_changes",
    "agreement_retire",
    "agreement_revise",
    "agreement_sign",
    "agreement_update",
]
