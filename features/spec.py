"""Training specs: which columns a dataset has and what each is for.

The default spec is derived from the profile schema. A data scientist's own extract,
with other columns, trains with nothing but a YAML spec written for it::

    name: my-extract
    columns:
      - {name: client_ref, role: id}
      - {name: gender, role: protected, type: categorical}
      - {name: months_out_of_work, role: feature, type: numeric, minimum: 0, maximum: 600}
      - {name: region, role: feature, type: categorical, categories: [N, S, E, W]}
      - {name: has_car, role: feature, type: boolean}
      - {name: found_job, role: employment_label}

Roles: ``id`` (kept, never an input), ``feature`` (an input), ``sensitive`` (an input,
always audited), ``protected`` (never an input, audited), ``need_label``,
``employment_label``, ``truth_need`` / ``truth_employment`` (synthetic truth, never an
input), ``audit`` (not an input, audited: e.g. ``rsa_recipient`` when it is not wanted as
an input). Either label may be absent; then only the other model is trained.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as PydanticField

from core.errors import ConfigError
from features.api_models import ID_PATTERN
from features.schema import FIELDS, NEED_CODES, Field
from features.validation import PERSON_ID, ColumnRule, validate_frame

SpecRole = Literal[
    "id",
    "feature",
    "sensitive",
    "protected",
    "audit",
    "need_label",
    "employment_label",
    "truth_need",
    "truth_employment",
]
SpecType = Literal["numeric", "integer", "categorical", "boolean", "string"]

#: Profile features audited for fairness besides protected and sensitive columns.
DEFAULT_AUDITED_FEATURES = ("rsa_recipient", "qpv_resident")


class SpecError(ConfigError):
    """A spec that cannot be used (bad YAML, unknown role, contradictions)."""


class ColumnSpec(BaseModel):
    """One column of a dataset and its role."""

    model_config = ConfigDict(extra="forbid")

    name: str = PydanticField(min_length=1)
    role: SpecRole
    type: SpecType | None = None
    categories: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = True
    audit: bool = False
    label_fr: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        if self.role in ("feature", "sensitive") and self.type is None:
            raise ValueError(
                f"column {self.name!r}: a {self.role} needs a type (numeric, integer, categorical or boolean)"
            )
        if self.categories is not None and self.type != "categorical":
            raise ValueError(f"column {self.name!r}: categories are only for type categorical")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"column {self.name!r}: minimum {self.minimum} is above maximum {self.maximum}")
        return self

    @property
    def is_input(self) -> bool:
        return self.role in ("feature", "sensitive")

    @property
    def is_audited(self) -> bool:
        return self.role in ("protected", "sensitive", "audit") or self.audit

    def rule(self) -> ColumnRule:
        kind = {
            "numeric": "number",
            "integer": "integer",
            "categorical": "category",
            "boolean": "boolean",
            "string": "string",
            None: "string",
        }[self.type]
        if self.role == "employment_label":
            kind = "boolean"
        if self.role == "need_label":
            kind = "category"
        codes = tuple(self.categories) if self.categories else None
        required = self.role not in ("protected", "audit", "truth_need", "truth_employment")
        nullable = self.nullable and self.role not in ("id", "need_label", "employment_label")
        # Ids are pseudonymous (the API's rule); a person has one row.
        pattern = ID_PATTERN if self.role == "id" else None
        unique = self.role == "id" and self.name == PERSON_ID
        return ColumnRule(self.name, kind, codes, self.minimum, self.maximum, nullable, required, pattern, unique)


class TrainingSpec(BaseModel):
    """Columns of a dataset and their roles; see the module docstring."""

    model_config = ConfigDict(extra="forbid")

    name: str = "profile"
    columns: list[ColumnSpec]

    @model_validator(mode="after")
    def _check(self) -> TrainingSpec:
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"columns named more than once: {', '.join(duplicates)}")
        for role in ("need_label", "employment_label"):
            if sum(c.role == role for c in self.columns) > 1:
                raise ValueError(f"at most one column may have role {role}")
        if not self.inputs:
            raise ValueError("the spec declares no feature: at least one column needs role feature or sensitive")
        if self.need_label is None and self.employment_label is None:
            raise ValueError("the spec declares no label: give a need_label, an employment_label, or both")
        return self

    # -- views -----------------------------------------------------------------------
    def _with_role(self, *roles: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.role in roles]

    @property
    def inputs(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.is_input]

    @property
    def input_names(self) -> list[str]:
        return [c.name for c in self.inputs]

    @property
    def ids(self) -> list[str]:
        return [c.name for c in self._with_role("id")]

    @property
    def audited(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.is_audited]

    @property
    def need_label(self) -> ColumnSpec | None:
        found = self._with_role("need_label")
        return found[0] if found else None

    @property
    def employment_label(self) -> ColumnSpec | None:
        found = self._with_role("employment_label")
        return found[0] if found else None

    @property
    def truth_need(self) -> list[str]:
        return [c.name for c in self._with_role("truth_need")]

    @property
    def truth_employment(self) -> str | None:
        found = self._with_role("truth_employment")
        return found[0].name if found else None

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def digest(self) -> str:
        """Stable hash of the spec's content (tagged on registered models)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    # -- data ------------------------------------------------------------------------
    def validate_data(self, frame: pd.DataFrame, source: str = "data", *, typed_file: bool = False) -> pd.DataFrame:
        """Check ``frame`` against the spec; return the typed frame or raise with every problem.

        ``typed_file``: the frame was read from a file that stores types (Parquet).
        """
        rules = [c.rule() for c in self.columns]
        return validate_frame(frame, rules, source=source, typed_file=typed_file)


def _spec_type(f: Field) -> SpecType:
    return {
        "category": "categorical",
        "boolean": "boolean",
        "integer": "integer",
        "number": "numeric",
        "string": "string",
    }[f.kind]


def _profile_role(f: Field) -> SpecRole:
    if f.role == "label":
        return "need_label" if f.kind == "category" else "employment_label"
    if f.role == "truth":
        return "truth_employment" if f.name == "true_p_employed_6m" else "truth_need"
    if f.role == "feature" and f.name in DEFAULT_AUDITED_FEATURES:
        return "feature"
    return f.role  # type: ignore[return-value]


def default_spec() -> TrainingSpec:
    """The spec of the reference profile (shared/profile.md)."""
    columns = []
    for f in FIELDS:
        role = _profile_role(f)
        columns.append(
            ColumnSpec(
                name=f.name,
                role=role,
                type=_spec_type(f) if role not in ("id",) else "string",
                categories=list(f.codes)
                if f.codes and role != "need_label"
                else (list(NEED_CODES) if role == "need_label" else None),
                minimum=f.minimum,
                maximum=f.maximum,
                nullable=f.nullable or f.role in ("protected", "sensitive"),
                audit=f.name in DEFAULT_AUDITED_FEATURES,
                label_fr=f.label_fr,
            )
        )
    return TrainingSpec(name="profile", columns=columns)


def load_spec(path: str | Path | None) -> TrainingSpec:
    """Load a YAML spec, or the default profile spec when ``path`` is None."""
    if path is None:
        return default_spec()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SpecError(f"{path}: no such spec file") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a spec is a mapping with 'name' and 'columns'")
    try:
        return TrainingSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}" for err in exc.errors())
        raise SpecError(f"{path}: invalid spec: {problems}") from exc
