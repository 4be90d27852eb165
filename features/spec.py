"""Training specs: which columns a dataset has and what each is for.

The default spec is derived from the profile schema. A data scientist's own extract,
with other columns, trains with nothing but a YAML spec written for it; the format,
every option and worked examples are in ``docs/spec.md``.

Roles: ``id`` (kept, never an input), ``feature`` (an input), ``sensitive`` (an input,
always audited), ``protected`` (never an input, audited), ``need_label``,
``employment_label``, ``truth_need`` / ``truth_employment`` (synthetic truth, never an
input), ``audit`` (not an input, audited). Either label may be absent; then only the
other model is trained.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic import Field as PydanticField

from core.age import AGE_UNITS
from core.config import REGISTERED_MODEL_NAME
from core.errors import ConfigError
from core.french import plural, quoted
from core.text import ID_PATTERN
from features._spec_yaml import YAML_BOOLEAN_HINT, located, yaml_boolean_problems
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
Scalar = str | int | float | bool

#: Profile features audited for fairness besides protected and sensitive columns.
DEFAULT_AUDITED_FEATURES = ("rsa_recipient", "qpv_resident")
#: The reference profile's spec name (its registered model keeps the historical name) and outcome horizon.
PROFILE_SPEC_NAME, PROFILE_HORIZON = "profile", "6 months"
_HORIZON = re.compile(r"^\s*(\d+)\s*(months?|mois|years?|ans?)\s*$", re.IGNORECASE)
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class SpecError(ConfigError):
    """A spec that cannot be used (bad YAML, unknown role, contradictions)."""


def horizon_months(text: str) -> int:
    """``"6 months"`` → 6, ``"2 years"`` → 24; :class:`ValueError` otherwise."""
    match = _HORIZON.match(text)
    if not match:
        raise ValueError(f"horizon {text!r} must be a number of months or years, e.g. '6 months' or '2 years'")
    count, unit = int(match.group(1)), match.group(2).lower()
    return count * (12 if unit.startswith(("year", "an")) else 1)


def _with_defaults(self: BaseModel, state: dict[str, Any]) -> None:
    fields = state.get("__dict__", {})
    for name, info in type(self).model_fields.items():
        fields.setdefault(name, info.default)
    BaseModel.__setstate__(self, state)


class ColumnSpec(BaseModel):
    """One column of a dataset and its role (every option is described in ``docs/spec.md``)."""

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
    description: str | None = None
    unit: str | None = None
    bands: Literal["age", "terciles"] | None = None
    positive: Scalar | list[Scalar] | None = None
    horizon: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        where = f"column {self.name!r}"
        if self.role in ("feature", "sensitive") and self.type is None:
            raise ValueError(f"{where}: a {self.role} needs a type (numeric, integer, categorical or boolean)")
        if self.categories is not None and self.type != "categorical":
            raise ValueError(f"{where}: categories are only for type categorical")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"{where}: minimum {self.minimum} is above maximum {self.maximum}")
        if self.role == "need_label" and self.type not in (None, "categorical"):
            raise ValueError(f"{where}: a need_label is categorical (give its codes as categories)")
        if self.role == "employment_label":
            self._check_outcome(where)
        elif self.positive is not None or self.horizon is not None:
            raise ValueError(f"{where}: positive and horizon are only for the employment_label")
        if self.bands == "age":
            if self.type not in ("numeric", "integer"):
                raise ValueError(f"{where}: bands: age needs a numeric or integer column")
            if self.unit not in AGE_UNITS:
                raise ValueError(
                    f"{where}: bands: age needs the unit the age is recorded in: unit: years or unit: months"
                )
        elif self.bands == "terciles" and self.type not in ("numeric", "integer"):
            raise ValueError(f"{where}: bands: terciles needs a numeric or integer column")
        return self

    def _check_outcome(self, where: str) -> None:
        if self.type not in (None, "boolean", "categorical", "integer"):
            raise ValueError(f"{where}: an employment_label is boolean, a 0/1 integer, or categorical with positive")
        if self.horizon is not None:
            horizon_months(self.horizon)
        if self.type == "categorical":
            if self.positive is None:
                raise ValueError(f"{where}: a categorical employment_label needs positive: the value(s) meaning yes")
            wanted = self.positive if isinstance(self.positive, list) else [self.positive]
            if self.categories is not None:
                unknown = [str(v) for v in wanted if str(v) not in self.categories]
                if unknown:
                    raise ValueError(
                        f"{where}: positive value(s) {', '.join(unknown)} not among categories "
                        f"{', '.join(self.categories)}"
                    )
        elif self.positive is not None and _truth_value(self.positive) is None:
            raise ValueError(
                f"{where}: positive of a boolean or 0/1 label is true, false, 1 or 0; got {self.positive!r} "
                "(a label with other values is type: categorical)"
            )

    __setstate__ = _with_defaults  # models pickled before an option existed load with its default

    @property
    def is_input(self) -> bool:
        return self.role in ("feature", "sensitive")

    @property
    def is_audited(self) -> bool:
        return self.role in ("protected", "sensitive", "audit") or self.audit

    @property
    def is_label(self) -> bool:
        return self.role in ("need_label", "employment_label")

    @property
    def is_age(self) -> bool:
        return self.bands == "age"

    @property
    def display_label(self) -> str:
        """What people read for this column: its French label, else its name."""
        return self.label_fr or self.name

    @property
    def horizon_months(self) -> int | None:
        return horizon_months(self.horizon) if self.horizon else None

    def outcome_fr(self) -> str:
        """What the probability is of, in French (« En emploi en 1998 », dans les 2 ans)."""
        months = self.horizon_months
        when = ""
        if months is not None:
            when = f", dans les {plural(months // 12, 'an')}" if months % 12 == 0 else f", dans les {months} mois"
        return f"{quoted(self.display_label)}{when}"

    def rule(self, *, labels: bool = True, person: bool = False) -> ColumnRule:
        kind = {
            "numeric": "number",
            "integer": "integer",
            "categorical": "category",
            "boolean": "boolean",
            "string": "string",
            None: "string",
        }[self.type]
        stored_as = None
        if self.role == "employment_label" and self.type in (None, "boolean", "integer"):
            kind = "boolean"  # a 0/1 integer label is read as false/true, then ``positive`` applies
            stored_as = "number" if self.type == "integer" else None
        if self.role == "need_label":
            kind = "category"
        codes = tuple(self.categories) if self.categories else None
        required = self.role not in ("protected", "audit", "truth_need", "truth_employment")
        if self.is_label and not labels:
            required = False
        nullable = self.nullable and self.role not in ("id", "need_label", "employment_label")
        # Ids are pseudonymous (the API's rule); a person has one row.
        pattern = ID_PATTERN if self.role == "id" else None
        unique = self.role == "id" and (person or self.name == PERSON_ID)
        return ColumnRule(
            self.name, kind, codes, self.minimum, self.maximum, nullable, required, pattern, unique, stored_as
        )

    def outcome(self, values: pd.Series) -> np.ndarray:
        """The employment label as 0/1 (1 = the positive value), from a validated column."""
        if self.type == "categorical":
            wanted = self.positive if isinstance(self.positive, list) else [self.positive]
            return values.astype(str).isin([str(v) for v in wanted]).to_numpy(dtype=bool).astype(int)
        positive = True if self.positive is None else _truth_value(self.positive)
        as_bool = values.astype("boolean").to_numpy(dtype=bool, na_value=False)
        return (as_bool == positive).astype(int)

    def outcome_words(self) -> str:
        """The outcome in English for the model card (``found_job = true within 6 months``)."""
        if self.description:
            return self.description
        wanted = self.positive if self.positive is not None else True
        shown = ", ".join(str(v) for v in wanted) if isinstance(wanted, list) else str(wanted).lower()
        horizon = f" within {self.horizon}" if self.horizon else " (no horizon declared)"
        return f"`{self.name}` = {shown}{horizon}"


def _truth_value(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    return None


class TrainingSpec(BaseModel):
    """Columns of a dataset and their roles; see ``docs/spec.md``."""

    model_config = ConfigDict(extra="forbid")

    name: str = PROFILE_SPEC_NAME
    description: str | None = None
    source: str | None = None
    model_name: str | None = None
    synthetic: bool | None = None
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
        if self.model_name is not None and not _MODEL_NAME.match(self.model_name):
            raise ValueError(f"model_name {self.model_name!r}: letters, digits, '.', '_' and '-' only")
        return self

    __setstate__ = _with_defaults

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
    def person_id(self) -> str | None:
        """The column that identifies a person (the first id column)."""
        return self.ids[0] if self.ids else None

    @property
    def audited(self) -> list[ColumnSpec]:
        return [c for c in self.columns if c.is_audited]

    @property
    def protected(self) -> list[ColumnSpec]:
        return self._with_role("protected")

    @property
    def sensitive(self) -> list[ColumnSpec]:
        return self._with_role("sensitive")

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

    @property
    def is_synthetic(self) -> bool:
        """Synthetic data: as declared, else whenever truth columns are declared."""
        if self.synthetic is not None:
            return self.synthetic
        return bool(self.truth_need or self.truth_employment)

    @property
    def registered_model_name(self) -> str:
        """One registered model per spec: ``model_name``, else ``jalon-<name>`` (the profile's keeps its name)."""
        if self.model_name:
            return self.model_name
        if self.name == PROFILE_SPEC_NAME:
            return REGISTERED_MODEL_NAME
        return "jalon-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name).strip("-")

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def label_of(self, name: str) -> str:
        """The display label of a column (its ``label_fr``, else its name)."""
        try:
            return self.column(name).display_label
        except KeyError:
            return name

    def digest(self) -> str:
        """Stable hash of the spec's content (tagged on registered models)."""
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def input_signature(self) -> str:
        """Hash of what the model takes: input names, types, codes and ranges (gate comparisons)."""
        inputs = [c.model_dump(include={"name", "type", "categories", "minimum", "maximum"}) for c in self.inputs]
        return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]

    def without_sensitive(self) -> TrainingSpec:
        """The same spec with sensitive columns kept for the audit only (never inputs)."""
        columns = [c.model_copy(update={"role": "audit"}) if c.role == "sensitive" else c for c in self.columns]
        return self.model_copy(update={"columns": columns, "name": self.name})

    # -- data ------------------------------------------------------------------------
    def validate_data(
        self, frame: pd.DataFrame, source: str = "data", *, labels: bool = True, typed_file: bool = False
    ) -> pd.DataFrame:
        """Check ``frame`` against the spec; return the typed frame or raise with every problem.

        ``labels=False`` (scoring, ``jalon data validate`` without ``--labels``): label
        columns are checked when present but not required. ``typed_file``: the frame was
        read from a file that stores types (Parquet).
        """
        # The person's column (the first id) holds one row per person, whatever its name.
        rules = [c.rule(labels=labels, person=c.name == self.person_id) for c in self.columns]
        return validate_frame(frame, rules, source=source, typed_file=typed_file)

    def outcome(self, frame: pd.DataFrame) -> np.ndarray:
        """The employment label of a validated frame as 0/1 (see :meth:`ColumnSpec.outcome`)."""
        label = self.employment_label
        if label is None:
            raise KeyError("the spec has no employment_label")
        return label.outcome(frame[label.name])


def _spec_type(f: Field) -> SpecType:
    types: dict[str, SpecType] = {
        "category": "categorical",
        "boolean": "boolean",
        "integer": "integer",
        "number": "numeric",
        "string": "string",
    }
    return types[f.kind]


def _profile_role(f: Field) -> SpecRole:
    if f.role == "label":
        return "need_label" if f.kind == "category" else "employment_label"
    if f.role == "truth":
        return "truth_employment" if f.name == "true_p_employed_6m" else "truth_need"
    return f.role


def default_spec() -> TrainingSpec:
    """The spec of the reference profile (features.schema.FIELDS)."""
    columns = []
    for f in FIELDS:
        role = _profile_role(f)
        extra: dict[str, Any] = {}
        if f.name == "age":
            extra = {"unit": "years", "bands": "age"}
        if role == "employment_label":
            extra = {
                "horizon": PROFILE_HORIZON,
                "description": "a job of at least one month within 6 months of registration",
            }
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
                **extra,
            )
        )
    return TrainingSpec(
        name=PROFILE_SPEC_NAME,
        description="The reference job-seeker profile (shared/profile.md).",
        columns=columns,
    )


def parse_spec(raw: Any, origin: str = "spec") -> TrainingSpec:
    """A spec from its parsed YAML or JSON (a mapping); :class:`SpecError` names column and rule."""
    if not isinstance(raw, dict):
        raise SpecError(f"{origin}: a spec is a mapping with 'name' and 'columns'")
    booleans = yaml_boolean_problems(raw)
    if booleans:
        raise SpecError(f"{origin}: invalid spec: " + "; ".join(booleans) + f" ({YAML_BOOLEAN_HINT})")
    try:
        return TrainingSpec.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = str(err["msg"]).removeprefix("Value error, ")
            where = located(tuple(err["loc"]), raw)
            problems.append(message if where == "spec" else f"{where}: {message}")
        raise SpecError(f"{origin}: invalid spec: {'; '.join(dict.fromkeys(problems))}") from exc


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
    return parse_spec(raw, str(path))
