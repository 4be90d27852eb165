"""Who is calling: a pseudonymous subject and a role (set by :mod:`serving.auth`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """``advisor``: suggest, decide, read their own; ``auditor``: read everything, oversight figures;
    ``admin``: everything, including deciding for an advisor; ``metrics``: scrape ``/metrics`` only."""

    ADVISOR = "advisor"
    AUDITOR = "auditor"
    ADMIN = "admin"
    METRICS = "metrics"


@dataclass(frozen=True)
class Principal:
    """The authenticated subject (a pseudonymous id) and its role."""

    subject: str
    role: Role
