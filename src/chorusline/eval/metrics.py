"""Detection metrics on plain arrays: precision/recall/F1, ROC AUC, adjusted Rand index.

Small and dependency-free (numpy): the pieces `chorusline eval` needs, each checked in the tests
against hand-computed values."""

from __future__ import annotations

import numpy as np


def precision_recall_f1(predicted: np.ndarray, actual: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Boolean arrays of equal length; None where a ratio has no denominator."""
    predicted, actual = np.asarray(predicted, bool), np.asarray(actual, bool)
    tp = int((predicted & actual).sum())
    precision = tp / predicted.sum() if predicted.sum() else None
    recall = tp / actual.sum() if actual.sum() else None
    if precision is None or recall is None:
        return precision, recall, None
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def roc_auc(scores: np.ndarray, actual: np.ndarray) -> float | None:
    """Area under the ROC curve by the rank-sum formula (ties count half)."""
    scores, actual = np.asarray(scores, float), np.asarray(actual, bool)
    n_pos, n_neg = int(actual.sum()), int((~actual).sum())
    if not n_pos or not n_neg:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    return float((ranks[actual].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def precision_at_recall(scores: np.ndarray, actual: np.ndarray, recall: float) -> float | None:
    """The best precision of any score threshold that reaches ``recall``."""
    scores, actual = np.asarray(scores, float), np.asarray(actual, bool)
    if not actual.sum():
        return None
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(actual[order])
    # thresholds only between distinct scores: take the last index of each tie group
    last = np.r_[scores[order][1:] != scores[order][:-1], True]
    rec, prec = hits[last] / actual.sum(), hits[last] / (np.flatnonzero(last) + 1)
    ok = rec >= recall
    return float(prec[ok].max()) if ok.any() else None


def adjusted_rand_index(labels_true, labels_pred) -> float:
    """Hubert and Arabie's ARI of two labellings of the same items."""
    _, t = np.unique(np.asarray(labels_true, dtype=str), return_inverse=True)
    _, p = np.unique(np.asarray(labels_pred, dtype=str), return_inverse=True)
    table = np.zeros((t.max() + 1, p.max() + 1), dtype=np.int64)
    np.add.at(table, (t, p), 1)

    def pairs(x):
        return (x * (x - 1) // 2).sum()

    index, rows, cols, n = pairs(table), pairs(table.sum(1)), pairs(table.sum(0)), pairs(np.array([len(t)]))
    expected = rows * cols / n if n else 0.0
    maximum = (rows + cols) / 2
    return 1.0 if maximum == expected else float((index - expected) / (maximum - expected))
