"""Figures for the detector: AUC, TPR at a fixed FPR, pooled windows of an account's posts, and accounts
that mix human and machine posts (a person writing some posts with an assistant)."""

from __future__ import annotations

import numpy as np


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (ties count half), by ranks."""
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels).astype(bool)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def threshold_at_fpr(negatives: np.ndarray, fpr: float = 0.01) -> float:
    """The smallest score above which at most ``fpr`` of the negatives lie (with fewer than 1/fpr
    negatives this is their maximum, i.e. an observed FPR of 0)."""
    negatives = np.sort(np.asarray(negatives, np.float64))
    allowed = int(np.floor(fpr * len(negatives)))
    return float(negatives[len(negatives) - 1 - allowed]) if len(negatives) else float("inf")


def tpr_at_fpr(positives: np.ndarray, negatives: np.ndarray, fpr: float = 0.01) -> float:
    return float(np.mean(np.asarray(positives) > threshold_at_fpr(negatives, fpr))) if len(positives) else float("nan")


def window_means(logits: np.ndarray, accounts: np.ndarray, k: int, rng: np.random.Generator,
                 repeats: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Mean logit over disjoint windows of ``k`` posts of one account (posts shuffled, leftovers dropped),
    for ``repeats`` independent shufflings. Returns (window means, each window's account code)."""
    codes = np.unique(accounts, return_inverse=True)[1]
    means, owners = [], []
    for _ in range(repeats):
        order = np.lexsort((rng.random(len(codes)), codes))
        sorted_codes = codes[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
        rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
        sizes = np.bincount(sorted_codes)
        keep = rank < (sizes[sorted_codes] // k) * k  # complete windows only
        window = sorted_codes[keep].astype(np.int64) * (len(order) + 1) + rank[keep] // k
        ids, inverse = np.unique(window, return_inverse=True)
        means.append(np.bincount(inverse, weights=logits[order][keep]) / k)
        owners.append(ids // (len(order) + 1))
    return (np.concatenate(means) if means else np.zeros(0)), (np.concatenate(owners) if owners else np.zeros(0))


def mixed_window_means(human_logits: np.ndarray, human_accounts: np.ndarray, machine_logits: np.ndarray,
                       k: int, machine_share: float, rng: np.random.Generator, repeats: int = 1) -> np.ndarray:
    """Windows of ``k`` posts of one human account in which round(machine_share * k) posts are replaced by
    machine-written posts drawn at random: a person who lets an assistant write some of their posts."""
    m = int(round(machine_share * k))
    if m == 0:
        return window_means(human_logits, human_accounts, k, rng, repeats)[0]
    if m >= k:
        return window_means(machine_logits, np.zeros(len(machine_logits)), k, rng, repeats)[0]
    human_part, _ = window_means(human_logits, human_accounts, k - m, rng, repeats)
    added = rng.choice(machine_logits, size=(len(human_part), m)).sum(1)
    return (human_part * (k - m) + added) / k
