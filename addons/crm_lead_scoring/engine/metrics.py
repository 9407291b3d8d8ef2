"""Quality measures of probabilistic predictions, as the model report shows them."""

import numpy as np
from sklearn import metrics as skm


def roc_auc(y, p):
    """Area under the ROC curve; None when one class is missing."""
    y = np.asarray(y)
    if len(np.unique(y)) < 2:
        return None
    return float(skm.roc_auc_score(y, p))


def log_loss(y, p):
    return float(skm.log_loss(y, np.clip(p, 1e-12, 1 - 1e-12), labels=[0, 1]))


def brier(y, p):
    return float(skm.brier_score_loss(y, p, pos_label=1)) if len(y) else None


def calibration_curve(y, p, bins=10):
    """Equal-width bins: mean predicted, observed rate and count per non-empty bin."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    curve = []
    for k in range(bins):
        mask = index == k
        if mask.any():
            curve.append(
                {
                    "bin": k,
                    "predicted": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return curve


def expected_calibration_error(y, p, bins=10):
    total = len(p)
    if not total:
        return None
    return float(sum(b["count"] / total * abs(b["predicted"] - b["observed"]) for b in calibration_curve(y, p, bins)))


def lift_by_decile(y, p):
    """Win rate of each tenth of the leads, best scores first, against the average rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if not len(y) or not y.mean():
        return []
    base = y.mean()
    order = np.argsort(-p, kind="mergesort")
    deciles = []
    for k, chunk in enumerate(np.array_split(order, 10), start=1):
        if len(chunk):
            rate = float(y[chunk].mean())
            deciles.append({"decile": k, "count": int(len(chunk)), "win_rate": rate, "lift": rate / base})
    return deciles


def evaluate(y, p):
    """All measures at once, JSON-ready."""
    return {
        "auc": roc_auc(y, p),
        "log_loss": log_loss(y, p),
        "brier": brier(y, p),
        "ece": expected_calibration_error(y, p),
        "calibration": calibration_curve(y, p),
        "lift": lift_by_decile(y, p),
        "count": len(y),
        "win_rate": float(np.mean(y)) if len(y) else None,
    }
