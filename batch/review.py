"""Milestone review (jalon « corde de rappel »): re-score the people due, flag only what changed.

:func:`review` reads, from the decisions store, each person's latest decision whose
milestone is on or before ``as_of`` (:meth:`DecisionStore.latest_decisions`), finds
their current profile in a data file (matched by ``person_id``), re-scores it with the
model and reports the people whose suggested need or tier now differs from the
**recorded decision** (the advisor's final need and tier). People due but absent from
the data file are listed, never dropped.

For each changed person it explains *what moved*, in French, by comparing the new
TreeSHAP contributions with the explanation stored with the original suggestion
(``SuggestionRecord.explanation``):

- the need is compared **towards the same target** as the stored explanation (the need
  suggested then), so that "contribution then → now" is about the same quantity; the
  employability explanation has a single target;
- the stored explanation keeps only the top factors; a field that was not among them
  had an unknown, smaller contribution, shown as « hors principaux facteurs » and
  counted as 0 for ranking;
- the largest changes (``top_moved`` per target, by absolute change) are listed, plus
  every field whose stored value differs from the current one (values come from the
  stored factors, and from the barrier fields kept with the suggestion for the policy).

A person whose recorded decision overrode the model may be flagged although nothing
changed: the model still disagrees with the advisor. ``recorded_action`` and
``suggested_need_then`` / ``suggested_tier_then`` make this visible.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from batch.moved import Mover, moved_text_fr, stored_explanations
from batch.proposal import add_proposals
from core.errors import InvalidInput
from features.io import DataFileError, file_format, iter_table
from features.validation import DataValidationError, profile_rules, validate_frame
from models.segmentation import ModelInputError, SegmentationModel
from records import DecisionRecord, DecisionStore, SuggestionRecord

CHANGE_COLUMNS: tuple[str, ...] = (
    "person_id",
    "agency_id",
    "decision_id",
    "suggestion_id",
    "milestone_date",
    "recorded_action",
    "recorded_need",
    "recorded_tier",
    "suggested_need_then",
    "suggested_tier_then",
    "new_need",
    "new_tier",
    "new_need_probability",
    "new_p_employed",
    "changed",
    "moved_fields",
    "moved_factors",
    "moved_factors_json",
    "model_version_then",
    "model_version_now",
)
MISSING_COLUMNS: tuple[str, ...] = (
    "person_id",
    "decision_id",
    "suggestion_id",
    "milestone_date",
    "recorded_need",
    "recorded_tier",
)
DEFAULT_TOP_MOVED = 3
_EXPLAIN_CHUNK = 20_000


class ReviewInputError(InvalidInput):
    """A data file that cannot be used for the review (duplicate people, columns the model lacks)."""


@dataclass
class ReviewResult:
    """Outcome of :func:`review`.

    ``changes``: one row per changed person (columns :data:`CHANGE_COLUMNS`, then the proposed
    new path: :data:`batch.proposal.PROPOSAL_COLUMNS`), ordered by milestone date then person.
    ``missing``: people due but absent from the data file.
    ``rescored``: every person re-scored (person_id, new_need, new_tier, changed; changed
    is empty when nothing changed). ``counts``: due, rescored, changed, unchanged, missing.
    """

    as_of: date
    changes: pd.DataFrame
    missing: pd.DataFrame
    rescored: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        by_kind = self.changes["changed"].value_counts().to_dict() if len(self.changes) else {}
        modality = self.changes.get("modality_change")
        return {
            "as_of": self.as_of.isoformat(),
            **{k: int(v) for k, v in self.counts.items()},
            "changed_by_kind": {k: int(by_kind.get(k, 0)) for k in ("need", "tier", "both")},
            "new_path_proposed": int(self.changes["proposal_fr"].notna().sum()) if len(self.changes) else 0,
            "modality_changes": int((modality.fillna("") != "").sum()) if modality is not None else 0,
        }


# --------------------------------------------------------------------------- reading the data


def _shifted(messages: list[str], rows: np.ndarray) -> list[str]:
    """Messages about rows of a subset, renumbered to the rows of the file."""
    out = []
    for message in messages:
        if message.startswith("row ") and ":" in message:
            number, rest = message[4:].split(":", 1)
            if number.isdigit() and 0 < int(number) <= len(rows):
                message = f"row {int(rows[int(number) - 1]) + 1}:{rest}"
        out.append(message)
    return out


def _due_profiles(data: Path, wanted: set[str], chunk_rows: int) -> pd.DataFrame:
    """The validated rows of ``data`` whose person_id is in ``wanted`` (with ``_row``, 1-based)."""
    # Duplicates among the people due are reported below, naming them (ReviewInputError).
    rules = [dataclasses.replace(rule, unique=False) for rule in profile_rules()]
    wanted_list = sorted(wanted)
    parts = []
    offset = 0
    try:
        for chunk in iter_table(data, chunk_rows=chunk_rows):
            if "person_id" not in chunk.columns:
                raise DataValidationError(["column 'person_id' is missing (must be a non-empty text)"], str(data))
            ids = chunk["person_id"].astype("string").str.strip()
            mask = ids.isin(wanted_list).fillna(False).to_numpy(dtype=bool)
            rows = offset + np.flatnonzero(mask)
            offset += len(chunk)
            if not mask.any():
                continue
            subset = chunk.loc[mask].reset_index(drop=True)
            try:
                typed = validate_frame(subset, rules, source=str(data), typed_file=file_format(data) == "parquet")
            except DataValidationError as exc:
                raise DataValidationError(_shifted(exc.messages, rows), source=str(data)) from None
            typed["_row"] = rows + 1
            parts.append(typed)
    except (DataFileError, DataValidationError):
        raise
    except Exception as exc:  # pyarrow / pandas parser errors: the file, not the code
        raise DataFileError(f"{data}: cannot be read as {file_format(data)}: {exc}") from exc
    if not parts:
        return pd.DataFrame(columns=["person_id", "_row"])
    found = pd.concat(parts, ignore_index=True)
    dup = found["person_id"].duplicated(keep=False)
    if dup.any():
        examples = found.loc[dup].groupby("person_id")["_row"].apply(lambda r: ", ".join(map(str, r)))
        shown = "; ".join(f"{pid} (rows {rows})" for pid, rows in list(examples.items())[:5])
        raise ReviewInputError(f"{data}: {int(examples.size)} person(s) due for review appear more than once: {shown}")
    return found


# --------------------------------------------------------------------------- the review


def review(
    data: str | Path,
    store: DecisionStore,
    model: SegmentationModel,
    as_of: date,
    *,
    model_version: str | None = None,
    top_moved: int = DEFAULT_TOP_MOVED,
    chunk_rows: int = 100_000,
) -> ReviewResult:
    """Re-score the people whose milestone is due by ``as_of``; report need or tier changes.

    Parameters
    ----------
    data : path
        Current profiles (Parquet or CSV), matched by ``person_id``; only the rows of
        people due are validated (errors name their row in the file).
    store : DecisionStore
    model : SegmentationModel
        The model re-scoring (normally the current champion).
    as_of : date
        Review date: decisions whose milestone is on or before it are due.
    model_version : str, optional
        Recorded in ``model_version_now`` (compare with ``model_version_then``).
    top_moved : int
        Largest changes listed per explained target (need, employability).
    """
    if not isinstance(as_of, date) or hasattr(as_of, "hour"):
        raise TypeError("as_of must be a datetime.date")
    data = Path(data)
    file_format(data)
    if not data.exists():
        raise DataFileError(f"{data}: no such file")
    pairs: list[tuple[SuggestionRecord, DecisionRecord]] = store.latest_decisions(milestone_due_by=as_of)
    due = {s.person_id: (s, d) for s, d in pairs}
    profiles = _due_profiles(data, set(due), chunk_rows) if due else pd.DataFrame(columns=["person_id", "_row"])

    found_ids = profiles["person_id"].astype(str).tolist()
    missing_rows = [
        {
            "person_id": s.person_id,
            "decision_id": d.decision_id,
            "suggestion_id": s.suggestion_id,
            "milestone_date": d.milestone_date,
            "recorded_need": d.final_need,
            "recorded_tier": d.final_tier,
        }
        for s, d in pairs
        if s.person_id not in set(found_ids)
    ]
    missing = pd.DataFrame(missing_rows, columns=list(MISSING_COLUMNS))

    change_rows: list[dict[str, Any]] = []
    rescored = pd.DataFrame({"person_id": found_ids})
    if len(profiles):
        try:
            X = model.encode_frame(profiles)
        except ModelInputError as exc:
            raise ReviewInputError(f"{data}: {exc}") from exc
        scores = model.score(X)
        n = len(X)
        new_need = (
            np.asarray(model.need_classes, dtype=object)[scores.need_index]
            if scores.need_proba is not None
            else np.full(n, None, dtype=object)
        )
        new_tier = scores.tier.astype(object) if scores.tier is not None else np.full(n, None, dtype=object)
        recorded = [due[pid][1] for pid in found_ids]
        need_diff = np.fromiter(
            (nn is not None and nn != d.final_need for nn, d in zip(new_need, recorded, strict=True)), dtype=bool
        )
        tier_diff = np.fromiter(
            (nt is not None and nt != d.final_tier for nt, d in zip(new_tier, recorded, strict=True)), dtype=bool
        )
        kind = np.array([_change_kind(n, t) for n, t in zip(need_diff, tier_diff, strict=True)], dtype=object)
        rescored = pd.DataFrame({"person_id": found_ids, "new_need": new_need, "new_tier": new_tier, "changed": kind})
        changed_pos = np.flatnonzero(need_diff | tier_diff)
        change_rows = _describe_changes(
            model, X, scores, changed_pos, profiles, found_ids, due, new_need, new_tier, kind, model_version, top_moved
        )

    changes = pd.DataFrame(change_rows, columns=list(CHANGE_COLUMNS))
    if len(changes):
        changes = changes.sort_values(["milestone_date", "person_id"], kind="stable").reset_index(drop=True)
    # the milestone cycle closes: the new path (model 1 for the new need and tier) for everyone who moved
    changes = add_proposals(changes, profiles, {pid: d.recommendation for pid, (_, d) in due.items()}, as_of)
    counts = {
        "due": len(pairs),
        "rescored": len(found_ids),
        "changed": len(changes),
        "unchanged": len(found_ids) - len(changes),
        "missing": len(missing),
    }
    return ReviewResult(as_of=as_of, changes=changes, missing=missing, rescored=rescored, counts=counts)


def _change_kind(need_changed: bool, tier_changed: bool) -> str | None:
    """``both``, ``need``, ``tier`` or None: what moved between the recorded decision and now."""
    if need_changed and tier_changed:
        return "both"
    return "need" if need_changed else "tier" if tier_changed else None


def _describe_changes(
    model: SegmentationModel,
    X: np.ndarray,
    scores,
    positions: np.ndarray,
    profiles: pd.DataFrame,
    ids: list[str],
    due: dict,
    new_need: np.ndarray,
    new_tier: np.ndarray,
    kind: np.ndarray,
    model_version: str | None,
    top_moved: int,
) -> list[dict[str, Any]]:
    mover = Mover(model, top_moved)
    class_of = {c: k for k, c in enumerate(model.need_classes)}
    rows: list[dict[str, Any]] = []
    for start in range(0, len(positions), _EXPLAIN_CHUNK):
        pos = positions[start : start + _EXPLAIN_CHUNK]
        Xs = X[pos]
        # Need contributions towards the need the stored explanation was about (else the new one).
        stored_by_row = [stored_explanations(due[ids[p]][0]) for p in pos]
        targets = np.asarray(
            [
                class_of.get(stored.need.target, -1) if stored is not None and stored.need else -1
                for stored in stored_by_row
            ],
            dtype=int,
        )
        need_c = None
        if model.has_need:
            fallback = scores.need_index[pos]
            need_c = model.explain_need(Xs, np.where(targets >= 0, targets, fallback)).values
        emp_c = model.explain_employability(Xs).values if model.has_employability else None
        for k, p in enumerate(pos):
            suggestion, decision = due[ids[p]]
            stored = stored_by_row[k]
            out = suggestion.output or {}
            x_row = X[p]
            need_target = model.need_classes[targets[k]] if targets[k] >= 0 else None
            known = mover.known_values(stored, out.get("policy_context"))
            entries = []
            if need_c is not None and need_target is not None:
                entries += mover.entries("need", stored.need if stored else None, need_c[k], x_row, need_target, known)
            if emp_c is not None:
                entries += mover.entries(
                    "employability", stored.employability if stored else None, emp_c[k], x_row, None, known
                )
            chosen = mover.select(entries, known, x_row)
            text = moved_text_fr(chosen)
            if stored is None:
                text = "Explication initiale non conservée : " + text if text else "Explication initiale non conservée."
            j_need = None if scores.need_proba is None else int(scores.need_index[p])
            rows.append(
                {
                    "person_id": ids[p],
                    "agency_id": profiles["agency_id"].iat[p] if "agency_id" in profiles.columns else None,
                    "decision_id": decision.decision_id,
                    "suggestion_id": suggestion.suggestion_id,
                    "milestone_date": decision.milestone_date,
                    "recorded_action": decision.action,
                    "recorded_need": decision.final_need,
                    "recorded_tier": decision.final_tier,
                    "suggested_need_then": (out.get("need") or {}).get("code"),
                    "suggested_tier_then": (out.get("employability") or {}).get("tier"),
                    "new_need": new_need[p],
                    "new_tier": new_tier[p],
                    "new_need_probability": None if j_need is None else float(scores.need_proba[p, j_need]),
                    "new_p_employed": None if scores.p_employed is None else float(scores.p_employed[p]),
                    "changed": kind[p],
                    "moved_fields": ";".join(dict.fromkeys(e["field"] for e in chosen)),
                    "moved_factors": text,
                    "moved_factors_json": json.dumps(chosen, ensure_ascii=False),
                    "model_version_then": suggestion.model_version,
                    "model_version_now": model_version,
                }
            )
    return rows


def write_review(result: ReviewResult, out: str | Path) -> list[Path]:
    """Write the changes to ``out`` (Parquet or CSV), the people missing from the data to
    ``<stem>.missing<suffix>`` (when any) and the counts to ``<stem>.summary.json``."""
    from features.io import write_table

    out = Path(out)
    file_format(out)
    written = [write_table(_for_file(result.changes, out), out)]
    if len(result.missing):
        written.append(write_table(_for_file(result.missing, out), out.with_name(out.stem + ".missing" + out.suffix)))
    side = out.with_name(out.stem + ".summary.json")
    side.write_text(json.dumps(result.summary(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written.append(side)
    return written


def _for_file(frame: pd.DataFrame, out: Path) -> pd.DataFrame:
    frame = frame.copy()
    if "milestone_date" in frame.columns:
        frame["milestone_date"] = pd.to_datetime(frame["milestone_date"]).dt.strftime("%Y-%m-%d")
    if "proposed_milestone_date" in frame.columns:
        frame["proposed_milestone_date"] = pd.to_datetime(frame["proposed_milestone_date"]).dt.strftime("%Y-%m-%d")
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return frame
