"""Model-selection criteria, with scikit-learn's sign: lower is better.

The training log-likelihood always rises with K — to infinity when a component
collapses onto a single point — so it cannot choose K by itself.  These
criteria pay for every free parameter (see :func:`gmm_studio.core.params.n_parameters`):

* BIC = -2·log L + p·log N  (Schwarz; consistent for the number of components)
* AIC = -2·log L + 2·p      (Akaike; lighter penalty, tends to pick larger K)
* ICL = BIC + 2·EN(γ), with EN(γ) = -Σ_n Σ_k γ_nk log γ_nk the entropy of the
  responsibilities (Biernacki, Celeux & Govaert 2000): it also penalises
  components that overlap, preferring well-separated clusters.

``log L`` is the total (not per-sample) log-likelihood.
"""

from __future__ import annotations

import numpy as np

from gmm_studio.core.params import n_parameters

__all__ = ["aic", "bic", "entropy", "icl", "n_parameters"]


def bic(log_likelihood: float, n_params: int, n_samples: int) -> float:
    """Bayesian information criterion from the total log-likelihood."""
    return -2.0 * log_likelihood + n_params * np.log(n_samples)


def aic(log_likelihood: float, n_params: int) -> float:
    """Akaike information criterion from the total log-likelihood."""
    return -2.0 * log_likelihood + 2.0 * n_params


def entropy(responsibilities: np.ndarray) -> float:
    """EN(γ) = -Σ γ log γ (with 0·log 0 = 0): 0 for hard assignments."""
    from scipy.special import xlogy  # scipy.special costs ~0.2 s of start-up; imported when used

    return float(-xlogy(responsibilities, responsibilities).sum())


def icl(log_likelihood: float, n_params: int, n_samples: int, entropy: float) -> float:
    """Integrated completed likelihood: BIC + 2·EN(γ), from the entropy EN(γ) of the
    responsibilities (:func:`entropy`, or :meth:`EMData.log_likelihood_and_entropy`)."""
    return bic(log_likelihood, n_params, n_samples) + 2.0 * entropy
