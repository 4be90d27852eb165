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

from core.errors import InvalidInput
from features.io import DataFileError, file_format, iter_table
from features.schema import FIELDS_BY_NAME, NEEDS
from features.validation import DataValidationError, profile_rules, validate_frame
from models.segmentation import ModelInputError, SegmentationModel, explained_factor
from models.suggestion import Explanation, Explanations
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

    ``changes``: one row per changed person (columns :data:`CHANGE_COLUMNS`), ordered by
    milestone date then person. ``missing``: people due but absent from the data file.
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
        return {
            "as_of": self.as_of.isoformat(),
            **{k: int(v) for k, v in self.counts.items()},
            "changed_by_kind": {k: int(by_kind.get(k, 0)) for k in ("need", "tier", "both")},
        }


# --------------------------------------------------------------------------- formatting


def _number_fr(x: float) -> str:
    return f"{x:+.2f}".replace(".", ",").replace("-", "−")


def _display(name: str, value: Any) -> str:
    f = FIELDS_BY_NAME.get(name)
    return f.display_value(value) if f is not None else ("non renseigné" if value is None else str(value))


def field_label_fr(name: str) -> str:
    """The French label of a profile field (the name itself for unknown fields)."""
    f = FIELDS_BY_NAME.get(name)
    return f.label_fr if f is not None else name


def _item_fr(e: dict[str, Any]) -> str:
    """One field: its value (old → new when it changed) and its contribution then → now."""
    label = e["label_fr"]
    if e["value_changed"]:
        head = f"{label} : {e['old_display']} → {e['new_display']}"
    else:
        head = f"{label} ({e['new_display']})"
    if e["new_contribution"] is None:
        return head
    if e["old_contribution"] is None:
        return f"{head}, {_number_fr(e['new_contribution'])} (hors des principaux facteurs auparavant)"
    return f"{head}, {_number_fr(e['old_contribution'])} → {_number_fr(e['new_contribution'])}"


def moved_text_fr(chosen: list[dict[str, Any]]) -> str:
    """The French summary of what moved, grouped by explained target."""
    parts = []
    need = [e for e in chosen if e["target"] == "need"]
    if need:
        label = NEEDS.get(need[0]["need_target"] or "", need[0]["need_target"])
        parts.append(
            f"Contributions vers le besoin « {label} » (suggéré alors), avant → maintenant : "
            + " ; ".join(_item_fr(e) for e in need)
        )
    emp = [e for e in chosen if e["target"] == "employability"]
    if emp:
        parts.append("Contributions aux chances d'emploi, avant → maintenant : " + " ; ".join(_item_fr(e) for e in emp))
    other = [e for e in chosen if e["target"] is None]
    if other:
        parts.append("Autres valeurs modifiées : " + " ; ".join(_item_fr(e) for e in other))
    return ". ".join(parts) + ("." if parts else "")


# --------------------------------------------------------------------------- comparison


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b) and type(a) is type(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return str(a) == str(b)


def _stored_explanations(suggestion: SuggestionRecord) -> Explanations | None:
    """The explanation recorded with a suggestion, read through the contract (None if none was kept)."""
    return Explanations.model_validate(suggestion.explanation) if suggestion.explanation else None


class _Mover:
    """Compares current contributions with a stored explanation, field by field."""

    def __init__(self, model: SegmentationModel, top_moved: int) -> None:
        self.model = model
        self.names = list(model.feature_names)
        self.index = {n: j for j, n in enumerate(self.names)}
        self.top_moved = top_moved

    def current_value(self, name: str, x_row: np.ndarray) -> Any:
        """The value as a stored factor shows it (same conversions as the explanation)."""
        value = self.model.encoder.decode_value(name, x_row[self.index[name]])
        return explained_factor(name, value, 0.0, None).value

    def known_values(self, stored: Explanations | None, policy_context: dict | None) -> dict[str, Any]:
        """Values of the original profile that the suggestion kept: its explained factors
        (need and employability) and the barrier fields kept for the policy."""
        known: dict[str, Any] = {}
        for name, value in (policy_context or {}).items():
            if name in self.index:
                known[name] = None if value is None else explained_factor(name, value, 0.0, None).value
        for part in (stored.need, stored.employability) if stored is not None else ():
            for f in part.factors if part is not None else ():
                if f.field in self.index:
                    known[f.field] = f.value
        return known

    def _entry(
        self,
        target: str | None,
        need_target: str | None,
        name: str,
        known: dict[str, Any],
        x_row: np.ndarray,
        old_c: float | None,
        new_c: float | None,
    ) -> dict[str, Any]:
        new_value = self.current_value(name, x_row)
        has_old = name in known
        old_value = known.get(name)
        return {
            "target": target,
            "need_target": need_target,
            "field": name,
            "label_fr": field_label_fr(name),
            "old_value": old_value,
            "new_value": new_value,
            "old_display": _display(name, old_value) if has_old else None,
            "new_display": _display(name, new_value),
            "value_changed": has_old and not _same(old_value, new_value),
            "old_contribution": old_c,
            "new_contribution": new_c,
            "delta": 0.0 if new_c is None else new_c - (old_c or 0.0),
        }

    def entries(
        self,
        target: str,
        stored: Explanation | None,
        contrib: np.ndarray | None,
        x_row: np.ndarray,
        need_target: str | None,
        known: dict[str, Any],
    ) -> list[dict[str, Any]]:
        """One entry per field among the stored top factors of ``target`` and the current ones."""
        if not stored or contrib is None:
            return []
        old = {f.field: f for f in stored.factors}
        top_new = [self.names[j] for j in np.argsort(-np.abs(contrib), kind="stable")[: self.model.top_factors]]
        out = []
        for name in dict.fromkeys([*old, *top_new]):
            if name not in self.index:
                continue
            old_c = old[name].contribution if name in old else None
            out.append(self._entry(target, need_target, name, known, x_row, old_c, float(contrib[self.index[name]])))
        return out

    def select(self, entries: list[dict[str, Any]], known: dict[str, Any], x_row: np.ndarray) -> list[dict[str, Any]]:
        """The largest changes per target, plus every field whose known value changed."""
        chosen: list[dict[str, Any]] = []
        for target in ("need", "employability"):
            part = [e for e in entries if e["target"] == target]
            part.sort(key=lambda e: (-abs(e["delta"]), e["field"]))
            chosen.extend(part[: self.top_moved] + [e for e in part[self.top_moved :] if e["value_changed"]])
        listed = {e["field"] for e in chosen if e["value_changed"]}
        for name in sorted(known):
            if name in listed:
                continue
            entry = self._entry(None, None, name, known, x_row, None, None)
            if entry["value_changed"]:
                chosen.append(entry)
        return chosen


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
        pairs = list(zip(new_need, new_tier, recorded, strict=True))
        need_diff = np.array([nn is not None and nn != d.final_need for nn, _, d in pairs], dtype=bool)
        tier_diff = np.array([nt is not None and nt != d.final_tier for _, nt, d in pairs], dtype=bool)
        kind = np.where(need_diff & tier_diff, "both", np.where(need_diff, "need", np.where(tier_diff, "tier", None)))
        rescored = pd.DataFrame({"person_id": found_ids, "new_need": new_need, "new_tier": new_tier, "changed": kind})
        changed_pos = np.flatnonzero(need_diff | tier_diff)
        change_rows = _describe_changes(
            model, X, scores, changed_pos, profiles, found_ids, due, new_need, new_tier, kind, model_version, top_moved
        )

    changes = pd.DataFrame(change_rows, columns=list(CHANGE_COLUMNS))
    if len(changes):
        changes = changes.sort_values(["milestone_date", "person_id"], kind="stable").reset_index(drop=True)
    counts = {
        "due": len(pairs),
        "rescored": len(found_ids),
        "changed": len(changes),
        "unchanged": len(found_ids) - len(changes),
        "missing": len(missing),
    }
    return ReviewResult(as_of=as_of, changes=changes, missing=missing, rescored=rescored, counts=counts)


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
    mover = _Mover(model, top_moved)
    class_of = {c: k for k, c in enumerate(model.need_classes)}
    rows: list[dict[str, Any]] = []
    for start in range(0, len(positions), _EXPLAIN_CHUNK):
        pos = positions[start : start + _EXPLAIN_CHUNK]
        Xs = X[pos]
        # Need contributions towards the need the stored explanation was about (else the new one).
        stored_by_row = [_stored_explanations(due[ids[p]][0]) for p in pos]
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
                entries += mover.entries("need", stored and stored.need, need_c[k], x_row, need_target, known)
            if emp_c is not None:
                entries += mover.entries("employability", stored and stored.employability, emp_c[k], x_row, None, known)
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
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype("string")
    return frame
