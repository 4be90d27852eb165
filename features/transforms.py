"""Feature transforms: from profile columns to the model's numeric matrix.

:class:`FrameEncoder` is the first step of every Jalon pipeline. It keeps one column per
profile field (categories become integer codes that LightGBM treats as categorical),
so that SHAP contributions are already per profile field, and missing answers stay
missing (NaN) rather than being imputed. It also has a fast path for single records
(:meth:`FrameEncoder.encode_records`), used by the service, which skips pandas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from core.errors import InvalidInput
from features.spec import TrainingSpec


class UnknownCategoryError(InvalidInput):
    """A categorical value that the fitted encoder has never seen."""


class FrameEncoder(TransformerMixin, BaseEstimator):
    """Encode input columns as floats: numbers as is, booleans 0/1, categories as codes.

    Parameters
    ----------
    numeric : list of str
        Numeric and integer columns.
    boolean : list of str
        Boolean columns.
    categorical : dict of str to list of str or None
        Categorical columns with their allowed codes; ``None`` learns the codes from
        the training data (sorted).
    """

    def __init__(
        self,
        numeric: Sequence[str] = (),
        boolean: Sequence[str] = (),
        categorical: Mapping[str, Sequence[str] | None] | None = None,
    ) -> None:
        self.numeric = numeric
        self.boolean = boolean
        self.categorical = categorical

    @classmethod
    def from_spec(cls, spec: TrainingSpec) -> FrameEncoder:
        numeric = [c.name for c in spec.inputs if c.type in ("numeric", "integer")]
        boolean = [c.name for c in spec.inputs if c.type == "boolean"]
        categorical = {c.name: c.categories for c in spec.inputs if c.type == "categorical"}
        return cls(numeric=numeric, boolean=boolean, categorical=categorical)

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameEncoder:
        categorical = dict(self.categorical or {})
        self.categories_: dict[str, list[str]] = {}
        for name, codes in categorical.items():
            if codes is None:
                seen = X[name].dropna().astype(str)
                codes = sorted(seen[seen != ""].unique().tolist())
            self.categories_[name] = list(codes)
        self.feature_names_out_ = [*self.numeric, *self.boolean, *categorical]
        self.feature_names_in_ = np.asarray(self.feature_names_out_, dtype=object)
        self.n_features_in_ = len(self.feature_names_out_)
        self.categorical_indices_ = list(range(len(self.numeric) + len(self.boolean), self.n_features_in_))
        self._lookup = {
            name: {code: float(i) for i, code in enumerate(codes)} for name, codes in self.categories_.items()
        }
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        return np.asarray(self.feature_names_out_, dtype=object)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(X), self.n_features_in_), dtype=np.float64)
        for j, name in enumerate(self.numeric):
            out[:, j] = pd.to_numeric(X[name]).to_numpy(dtype=np.float64, na_value=np.nan)
        offset = len(self.numeric)
        for j, name in enumerate(self.boolean):
            out[:, offset + j] = X[name].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        offset += len(self.boolean)
        for j, name in enumerate(self.categories_):
            out[:, offset + j] = self._codes(name, X[name])
        return out

    def _codes(self, name: str, column: pd.Series) -> np.ndarray:
        lookup = self._lookup[name]
        text = column.astype(object)
        missing = text.isna().to_numpy() | (text.astype(str) == "").to_numpy()
        mapped = text.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
        unknown = np.isnan(mapped) & ~missing
        if unknown.any():
            values = sorted(set(text[unknown].astype(str)))[:5]
            raise UnknownCategoryError(
                f"{name}: unknown code(s) {', '.join(values)}; must be one of {', '.join(self.categories_[name])}"
            )
        return mapped

    def encode_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Encode plain records (the service's path: no pandas, a few microseconds a row)."""
        out = np.full((len(records), self.n_features_in_), np.nan, dtype=np.float64)
        names = self.feature_names_out_
        n_plain = len(self.numeric) + len(self.boolean)
        for i, record in enumerate(records):
            row = out[i]
            for j in range(n_plain):
                value = record.get(names[j])
                if value is not None:
                    row[j] = float(value)
            for j in range(n_plain, self.n_features_in_):
                value = record.get(names[j])
                if value is not None and value != "":
                    code = self._lookup[names[j]].get(str(value))
                    if code is None:
                        raise UnknownCategoryError(
                            f"{names[j]}: unknown code {value}; must be one of {', '.join(self.categories_[names[j]])}"
                        )
                    row[j] = code
        return out

    def decode_value(self, name: str, encoded: float) -> Any:
        """The original value of an encoded cell (for explanations)."""
        if np.isnan(encoded):
            return None
        if name in self.categories_:
            return self.categories_[name][int(encoded)]
        if name in self.boolean:
            return bool(encoded)
        return float(encoded)


def one_hot_preprocessor(spec: TrainingSpec) -> ColumnTransformer:
    """Preprocessing for linear baselines: one-hot categories, imputed and scaled numbers."""
    numeric = [c.name for c in spec.inputs if c.type in ("numeric", "integer", "boolean")]
    categorical = [c.name for c in spec.inputs if c.type == "categorical"]
    return ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="__missing__"), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )


def to_float_frame(frame: pd.DataFrame, spec: TrainingSpec) -> pd.DataFrame:
    """Inputs as a frame a scikit-learn preprocessor accepts (nullable dtypes as float / object)."""
    out = {}
    for c in spec.inputs:
        column = frame[c.name]
        if c.type == "categorical":
            out[c.name] = column.astype(object).where(column.notna(), np.nan)
        else:
            out[c.name] = column.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.DataFrame(out, index=frame.index)
