"""Demo figures and friction reports for ``seed_demo``: twelve months of the
demo chain's working life, up to today.

Seeding is not a person using the portal, so rows dated in months that are
locked by now are written through the models, each with its history row
dated, attributed and explained as the real use would have left it. What a
person would still do through the portal today (corrections of locked
months, merging duplicate pain points) goes through the services.

A fixed random seed makes the data the same on every machine for a given
date; every step checks first whether its data exists, so running the
command again changes nothing.
"""

from .figures import seed_figures
from .friction import seed_friction
from .lifecycle import date_lifecycle

__all__ = ["date_lifecycle", "seed_figures", "seed_friction"]
