"""A staffing file applied to agencies: each one's advisors, référents, provider places and portfolios.

:func:`resolve_agencies` gives each agency of a scored table its staff (listed in the file,
or from the ratios per 1,000 people of the stock at the start); :func:`portfolio_split`
is the rule that shares the advisors holding portfolios among modalities; :func:`check_caps`
refuses a plan whose caps cannot hold the people at the start unless the file states what
happens then (``over_cap``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from policy.staffing._loading import StaffingError
from policy.staffing._schema import Staffing

#: Scenarios a plan compares: today's organisation, model 1 (paths by need), model 2 (intensive / others).
SCENARIOS: tuple[str, ...] = ("current", "model1", "model2")
SCENARIO_LABELS_FR: dict[str, str] = {
    "current": "Organisation actuelle",
    "model1": "Modèle 1 (parcours par besoin)",
    "model2": "Modèle 2 (accompagnement intensif limité dans le temps)",
}
#: Modalities or tracks held in portfolios, per scenario, most intensive first (the last one takes the
#: advisors left once the others are held at their caps). In model 2 the référents hold INTENSIVE apart.
HELD_BY_SCENARIO: dict[str, tuple[str, ...]] = {
    "current": ("RENFORCE", "GUIDE", "SUIVI"),
    "model1": ("GLOBAL", "RENFORCE", "GUIDE", "SUIVI"),
    "model2": ("LARGE_PORTFOLIO",),
}


@dataclass(frozen=True)
class AgencyStaff:
    """One agency's staff for a plan (FTE), its named référents and its provider places."""

    agency_id: str
    people_at_start: int
    cdde: float
    cde: float
    referent_ids: tuple[str, ...]
    referent_fte: tuple[float, ...]
    provider_places: int
    #: Where the figures come from: ``agencies.<id>`` or ``staff.per_1000_people``.
    source: str

    @property
    def referent_total(self) -> float:
        return float(sum(self.referent_fte))

    def general_fte(self, scenario: str, cde_employer_share: float) -> float:
        """FTE holding the portfolios other than model 2's intensive one (CDE for their job-seeker share)."""
        base = self.cdde + self.cde * (1.0 - cde_employer_share)
        return base if scenario == "model2" else base + self.referent_total

    def portfolio_fte(self, cde_employer_share: float) -> float:
        """Every FTE holding a job seekers' portfolio (the same in every scenario: « à iso effectif »)."""
        return self.cdde + self.cde * (1.0 - cde_employer_share) + self.referent_total

    def caseloads(self, cap: int) -> tuple[int, ...]:
        """Intensive places of each référent: their FTE × the INTENSIVE cap, rounded down."""
        return tuple(math.floor(f * cap + 1e-9) for f in self.referent_fte)


def _split_referents(agency_id: str, total: float) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Référents named ``<agency>-REF01``…: full time each, the last one for the remainder."""
    ids, fte = [], []
    left = round(total, 9)
    k = 0
    while left > 1e-9:
        k += 1
        share = min(1.0, left)
        ids.append(f"{agency_id}-REF{k:02d}")
        fte.append(round(share, 9))
        left = round(left - share, 9)
    return tuple(ids), tuple(fte)


def resolve_agencies(staffing: Staffing, people_by_agency: Mapping[str, int]) -> list[AgencyStaff]:
    """The staff of every agency of ``people_by_agency`` (sorted by id); raises naming the field."""
    out = []
    ratios = staffing.staff.per_1000_people
    missing = [a for a in people_by_agency if a not in staffing.agencies and ratios is None]
    if missing:
        raise StaffingError(
            f"agencies: no entry for {', '.join(map(repr, sorted(missing)[:5]))} and no staff.per_1000_people "
            "default; list every agency of the scored file or give the ratios"
        )
    for agency_id in sorted(people_by_agency):
        people = int(people_by_agency[agency_id])
        entry = staffing.agencies.get(agency_id)
        if entry is not None:
            if entry.referents is not None:
                ids = tuple(entry.referents)
                fte = tuple(float(v) for v in entry.referents.values())
            else:
                ids, fte = _split_referents(agency_id, entry.referent_fte)
            places = entry.provider_places
            if places is None:
                places = round(staffing.model2.provider_places_per_1000 * people / 1000)
            staff = AgencyStaff(agency_id, people, entry.CDDE, entry.CDE, ids, fte, places, f"agencies.{agency_id}")
        else:
            assert ratios is not None
            scale = people / 1000.0
            ids, fte = _split_referents(agency_id, ratios.REFERENT * scale)
            places = round(staffing.model2.provider_places_per_1000 * scale)
            staff = AgencyStaff(
                agency_id,
                people,
                ratios.CDDE * scale,
                ratios.CDE * scale,
                ids,
                fte,
                places,
                f"staff.per_1000_people (agency {agency_id})",
            )
        if people > 0 and staff.portfolio_fte(staffing.staff.cde_employer_share) <= 0:
            raise StaffingError(
                f"{staff.source}: no advisor holds a portfolio (CDDE + REFERENT + the CDE's job-seeker share = 0 FTE) "
                f"but {people:,} people are registered"
            )
        out.append(staff)
    return out


@dataclass(frozen=True)
class PortfolioSplit:
    """How the advisors of each agency (rows) are shared among held modalities (columns)."""

    fte: np.ndarray  # FTE holding each modality
    held: np.ndarray  # people held in portfolios (the others wait, under over_cap: waiting_list)
    waiting: np.ndarray  # people beyond the caps who wait (0 unless over_cap: waiting_list)
    over_factor: np.ndarray  # 1 when the caps hold everyone, else people per advisor / cap (> 1)

    @property
    def size(self) -> np.ndarray:
        """People per advisor (FTE) in each modality's portfolios (NaN where nobody is held)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            size = self.held / self.fte
        return np.where(self.held > 0, size, np.nan)


def portfolio_split(counts: np.ndarray, caps: np.ndarray, fte: np.ndarray, over_cap: str | None) -> PortfolioSplit:
    """Share each agency's advisors among its held modalities (columns, most intensive first).

    Caps first: each modality but the last gets the FTE that hold its people at its cap; the
    last (SUIVI, or model 2's large portfolio) gets every FTE left, so its portfolios are the
    ones that grow. When even that cannot hold everyone at the caps, every modality is over its
    cap by the same factor (``accept``) or the people beyond the caps wait (``waiting_list``).
    """
    counts = np.asarray(counts, dtype=np.float64)
    caps = np.asarray(caps, dtype=np.float64)
    fte = np.asarray(fte, dtype=np.float64)
    need = counts / caps
    total = need.sum(axis=1)
    fits = total <= fte + 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[:, None] > 0, need / total[:, None], 0.0)
    first = need.copy()
    first[:, -1] = fte - need[:, :-1].sum(axis=1)
    split = np.where(fits[:, None], first, fte[:, None] * share)
    over = np.where(fits, 1.0, np.divide(total, fte, out=np.full_like(total, np.inf), where=fte > 0))
    if over_cap == "waiting_list":
        held = np.where(fits[:, None], counts, np.floor(caps * split + 1e-9))
        held = np.minimum(held, counts)
    else:
        held = counts
    return PortfolioSplit(fte=split, held=held, waiting=counts - held, over_factor=over)


def check_caps(
    staffing: Staffing, agencies: list[AgencyStaff], counts: np.ndarray, scenario: str, keys: tuple[str, ...]
) -> None:
    """Refuse caps that cannot hold the people at the start when the file states no ``over_cap`` policy."""
    if staffing.over_cap is not None:
        return
    caps = np.array([staffing.norms[k].cap for k in keys], dtype=np.float64)
    share = staffing.staff.cde_employer_share
    fte = np.array([a.general_fte(scenario, share) for a in agencies], dtype=np.float64)
    split = portfolio_split(counts, caps, fte, None)
    bad = np.flatnonzero(split.over_factor > 1 + 1e-9)
    if not len(bad):
        return
    lines = []
    for i in bad[:5]:
        a = agencies[i]
        parts = ", ".join(
            f"{k} {int(counts[i, j]):,} people / cap {staffing.norms[k].cap}"
            for j, k in enumerate(keys)
            if counts[i, j] > 0
        )
        lines.append(
            f"{a.source}: norms caps below the stock at the start in scenario {scenario}: holding its people at "
            f"the caps needs {float((counts[i] / caps).sum()):.1f} FTE ({parts}) but {fte[i]:.1f} FTE hold portfolios"
        )
    more = f" (and {len(bad) - 5} more agencies)" if len(bad) > 5 else ""
    raise StaffingError(
        "; ".join(lines)
        + more
        + "; state over_cap: accept (portfolios above the caps, reported) or over_cap: waiting_list "
        "(people beyond the caps wait, at the UNALLOCATED norm)"
    )
