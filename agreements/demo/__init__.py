"""Demo figures, friction reports and records for ``seed_demo``: twelve
months of the demo chain's working life, up to today.

Seeding is not a person using the portal, so rows dated in months that are
locked by now are written through the models, each with its history row
dated, attributed and explained as the real use would have left it. What a
person would still do through the portal today (corrections of locked
months, merging duplicate pain points) goes through the services, and
records come in through ``records_upsert`` as a feed would send them.

A fixed random seed makes the data the same on every machine for a given
date; every step checks first whether its data exists, so running the
command again changes nothing.
"""

from .figures import seed_figures
from .friction import seed_friction
from .lifecycle import date_lifecycle
from .records import (
    HELPDESK,
    HUBSPOT,
    STATUS_PAGE,
    RecordSetup,
    availability_measure,
    requests_measure,
    seed_record_setup,
    seed_records,
)

__all__ = [
    "HELPDESK",
    "HUBSPOT",
    "STATUS_PAGE",
    "RecordSetup",
    "availability_measure",
    "date_lifecycle",
    "requests_measure",
    "seed_figures",
    "seed_friction",
    "seed_record_setup",
    "seed_records",
]
