"""Small vectorised helpers: every draw takes one uniform (or normal) per row from the caller's stream."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def from_shares(u: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Code index drawn from fixed shares with one uniform per row."""
    cum = np.cumsum(shares)
    cum = cum / cum[-1]
    return np.minimum(np.searchsorted(cum, u, side="right"), len(shares) - 1).astype(np.int8)


def from_rows(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Code index drawn from row-wise probabilities (n, k) with one uniform per row."""
    cum = np.cumsum(probs, axis=1)
    out = (u[:, None] * cum[:, -1:] >= cum[:, :-1]).sum(axis=1)
    return out.astype(np.int8)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax; one temporary array, exponentiated and normalised in place to spare memory."""
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def ordered(z: np.ndarray, cuts: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ordered-probit level: how many cut points lie below each latent value."""
    return np.searchsorted(np.asarray(cuts, dtype=np.float64), z).astype(np.int8)
