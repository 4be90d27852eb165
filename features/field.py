"""A profile column (:class:`Field`) and the groups of the advisor form.

The column definitions themselves, ``FIELDS``, are in :mod:`features.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core import french

Role = Literal["id", "protected", "sensitive", "feature", "label", "truth"]
Kind = Literal["string", "category", "integer", "number", "boolean"]

#: Form groups of the advisor page, in display order, with their French titles.
GROUPS: dict[str, str] = {
    "identification": "Identification",
    "situation": "Situation",
    "parcours": "Parcours professionnel",
    "freins": "Freins périphériques",
    "auto_evaluation": "Auto-évaluation",
    "audit": "Informations pour l'audit (facultatives)",
}


@dataclass(frozen=True)
class Field:
    """One profile column.

    Attributes:
        name: column name, exactly as in the data extracts (the profile contract).
        role: id, protected, sensitive, feature, label or truth.
        kind: string, category, integer, number or boolean.
        label_fr: French display label (advisor page, reports).
        group: advisor form group (a key of ``GROUPS``).
        codes: allowed codes of a category, in a meaningful order.
        code_labels_fr: French label of each code.
        minimum, maximum: inclusive range of a number or integer.
        nullable: whether a value may be missing (an unanswered self-assessment).
        phrase_fr: template of the French sentence describing the value in an
            explanation; ``{value}`` is the displayed value.
        unit_fr: singular and plural of the unit of a count (``{value}`` becomes « 1 mois
            travaillé », « 6,5 ans »: French plural from 2, never « an(s) »).
        phrase_zero_fr: the sentence for a count of zero (« Aucun mois travaillé… »).
    """

    name: str
    role: Role
    kind: Kind
    label_fr: str
    group: str
    codes: tuple[str, ...] | None = None
    code_labels_fr: dict[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    phrase_fr: str | None = None
    phrase_true_fr: str | None = None
    phrase_false_fr: str | None = None
    unit_fr: tuple[str, str] | None = None
    phrase_zero_fr: str | None = None

    @property
    def is_model_input(self) -> bool:
        """Default model input: features and sensitive columns, never protected ones."""
        return self.role in ("feature", "sensitive")

    @property
    def optional_in_api(self) -> bool:
        """Protected and sensitive columns are only needed for audit; nullable may be missing."""
        return self.nullable or self.role in ("protected", "sensitive")

    def display_value(self, value: object) -> str:
        """The value as an advisor reads it, in French."""
        if value is None or (isinstance(value, float) and value != value):
            return "non renseigné"
        if self.kind == "category":
            return self.code_labels_fr.get(str(value), str(value))
        if self.kind == "boolean":
            return "oui" if bool(value) else "non"
        if self.kind == "integer":
            return french.number(int(float(str(value))))
        if self.kind == "number":
            if self.name == "local_unemployment_rate":
                return french.percent(float(str(value)), 1)
            return french.number(round(float(str(value)), 2))
        return str(value)

    def sentence_fr(self, value: object) -> str:
        """French description of this field's value (the left half of an explanation)."""
        missing = value is None or (isinstance(value, float) and value != value)
        if missing:
            return f"{self.label_fr} non renseigné"
        if self.kind == "boolean":
            template = self.phrase_true_fr if bool(value) else self.phrase_false_fr
            if template:
                return template
        if self.phrase_zero_fr and float(value) == 0:  # type: ignore[arg-type]
            return self.phrase_zero_fr
        shown = self.display_value(value)
        if self.unit_fr is not None:
            singular, plural = self.unit_fr
            shown = f"{shown} {singular if abs(float(value)) < 2 else plural}"  # type: ignore[arg-type]
        if self.kind == "category" and len(shown) > 1 and shown[1].islower():
            shown = shown[0].lower() + shown[1:]  # "Logement précaire", but "Dernier contrat CDD"
        if self.phrase_fr:
            return self.phrase_fr.format(value=shown)
        return f"{self.label_fr} {self.display_value(value)}"
