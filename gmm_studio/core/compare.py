"""How well a shown model agrees with what is known about the data: labels and a true mixture.

One function, :func:`compare_model`, computes every figure a panel shows (the adjusted Rand
index against the dataset's label column and against the generating labels, and the
per-component errors against the true mixture), so panels only draw.  Any thread.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_studio.core.generate import ComponentError, adjusted_rand_index, compare_to_truth
from gmm_studio.core.params import MixtureParams

__all__ = ["LabelAgreement", "ModelComparison", "compare_model", "label_codes"]


def label_codes(labels) -> np.ndarray:
    """Labels of any type as int64 codes 0..C-1 (sorting strings once, not at every comparison)."""
    _, codes = np.unique(np.asarray(labels), return_inverse=True)
    return codes.ravel().astype(np.int64)


@dataclass(frozen=True)
class LabelAgreement:
    """The adjusted Rand index of the model's hard assignment against one labelling.

    ``inlier_ari`` leaves out points labelled -1 (generated outliers); None when there are none.
    """

    ari: float
    n_classes: int
    inlier_ari: float | None = None


@dataclass(frozen=True)
class ModelComparison:
    """Every comparison of one shown model.

    Attributes
    ----------
    labels : LabelAgreement or None
        Against the dataset's label column (None without one).
    truth_labels : LabelAgreement or None
        Against the labels that generated the data (None when unknown).
    errors : tuple of ComponentError
        Per matched true component (true-index order); empty without a true mixture.
    unmatched_true, unmatched_fitted : int
        Components left without a partner when the fit and the truth differ in K.
    """

    labels: LabelAgreement | None
    truth_labels: LabelAgreement | None
    errors: tuple[ComponentError, ...]
    unmatched_true: int = 0
    unmatched_fitted: int = 0


def _agreement(codes: np.ndarray, assigned: np.ndarray, inliers: np.ndarray | None) -> LabelAgreement:
    inlier_ari = None
    if inliers is not None and not inliers.all():
        inlier_ari = adjusted_rand_index(codes[inliers], assigned[inliers])
    return LabelAgreement(adjusted_rand_index(codes, assigned), len(np.unique(codes)), inlier_ari)


def compare_model(
    params: MixtureParams,
    assigned: np.ndarray,
    label_codes_: np.ndarray | None = None,
    truth: MixtureParams | None = None,
    truth_labels: np.ndarray | None = None,
) -> ModelComparison:
    """Compare ``params`` (and its hard assignment ``assigned``) with labels and a true mixture.

    Parameters
    ----------
    params : MixtureParams
        The model shown.
    assigned : int array of shape (N,)
        Each point's most responsible component under ``params``.
    label_codes_ : int array of shape (N,), optional
        The dataset's label column as :func:`label_codes`.
    truth : MixtureParams, optional
        The mixture that generated the data (same D as ``params``).
    truth_labels : int array of shape (N,), optional
        The generating component of each point, -1 for outliers.
    """
    assigned = np.asarray(assigned, dtype=np.int64)
    labels = None if label_codes_ is None else _agreement(label_codes_, assigned, None)
    by_truth = None
    if truth_labels is not None:
        truth_labels = np.asarray(truth_labels, dtype=np.int64)
        by_truth = _agreement(truth_labels, assigned, truth_labels >= 0)
    errors: tuple[ComponentError, ...] = ()
    unmatched_true = unmatched_fitted = 0
    if truth is not None and truth.n_features == params.n_features:
        found, _ = compare_to_truth(truth, params)
        errors = tuple(found)
        unmatched_true = truth.n_components - len(errors)
        unmatched_fitted = params.n_components - len(errors)
    return ModelComparison(labels, by_truth, errors, unmatched_true, unmatched_fitted)
