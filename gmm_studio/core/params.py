"""Mixture parameters: the immutable value every layer passes around.

A :class:`MixtureParams` holds weights, means and covariances in scikit-learn's
shapes for its covariance type, and derives everything else (full matrices,
precisions, Cholesky factors) on demand.  Arrays are made read-only, so a
params object can be handed from the EM thread to the GUI thread safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

CovarianceType = Literal["full", "tied", "diag", "spherical"]
COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")


def check_choice(option: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` or raise a ``ValueError`` that names ``option`` and lists the choices."""
    if value not in choices:
        raise ValueError(
            f"Unknown {option} {value!r}: choose one of " + ", ".join(repr(c) for c in choices) + "."
        )
    return value


def check_covariance_type(covariance_type: str) -> str:
    """Return ``covariance_type`` or raise a ``ValueError`` that lists the choices."""
    return check_choice("covariance_type", covariance_type, COVARIANCE_TYPES)


def covariance_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """The shape scikit-learn uses for ``covariances_`` of this type."""
    return {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[check_covariance_type(covariance_type)]


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """A covariance is not positive definite; ``component`` says which (0-based)."""

    def __init__(self, component: int):
        self.component = component
        super().__init__(f"covariance of component {component + 1} is not positive definite")


# Above this width the factors are computed one component at a time, so a fit
# needs one D×D temporary rather than K of them (wide data: 32 MB each at D = 2000).
_BATCHED_MAX_FEATURES = 64


def _frozen(array: np.ndarray) -> np.ndarray:
    """A read-only float64 copy — or the array itself when it is already a read-only
    float64 array owning its memory (what the EM engine hands over), so wide
    covariances are not copied once more."""
    if (isinstance(array, np.ndarray) and array.dtype == np.float64 and array.base is None
            and not array.flags.writeable):
        return array
    array = np.array(array, dtype=np.float64, copy=True)
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class MixtureParams:
    """Weights, means and covariances of a Gaussian mixture.

    Parameters
    ----------
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    weights : array of shape (K,)
        Mixing proportions; they sum to one.
    means : array of shape (K, D)
    covariances : array
        In scikit-learn's shape for ``covariance_type`` (see :func:`covariance_shape`).
    """

    covariance_type: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def __post_init__(self) -> None:
        check_covariance_type(self.covariance_type)
        object.__setattr__(self, "weights", _frozen(self.weights))
        object.__setattr__(self, "means", _frozen(self.means))
        object.__setattr__(self, "covariances", _frozen(self.covariances))
        if self.means.ndim != 2 or self.weights.shape != (self.means.shape[0],):
            raise ValueError(
                f"weights must have shape (K,) and means (K, D); got {self.weights.shape} "
                f"and {self.means.shape}."
            )
        expected = covariance_shape(self.covariance_type, *self.means.shape)
        if self.covariances.shape != expected:
            raise ValueError(
                f"covariances for covariance_type={self.covariance_type!r} must have shape "
                f"{expected}; got {self.covariances.shape}."
            )

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    @property
    def n_features(self) -> int:
        return self.means.shape[1]

    def full_covariances(self) -> np.ndarray:
        """Covariances as a (K, D, D) stack of full matrices, whatever the type."""
        k, d = self.means.shape
        c = self.covariances
        if self.covariance_type == "full":
            return c.copy()
        if self.covariance_type == "tied":
            return np.broadcast_to(c, (k, d, d)).copy()
        if self.covariance_type == "diag":
            return c[:, :, None] * np.eye(d)
        return c[:, None, None] * np.eye(d)

    def precisions_cholesky(self) -> np.ndarray:
        """Cholesky factors of the precisions in scikit-learn's convention.

        Raises :class:`NotPositiveDefiniteError` when a covariance is not positive
        definite; the EM engine turns that into a diagnosed degeneracy event.
        """
        c = self.covariances
        if self.covariance_type in ("diag", "spherical"):
            bad = np.flatnonzero(~(c > 0).reshape(len(c), -1).all(axis=1))
            if len(bad):
                raise NotPositiveDefiniteError(int(bad[0]))
            return 1.0 / np.sqrt(c)
        stack = c[None] if self.covariance_type == "tied" else c
        finite = np.isfinite(stack).all(axis=(1, 2))
        if not finite.all():
            raise NotPositiveDefiniteError(int(np.flatnonzero(~finite)[0]))
        d = stack.shape[1]
        # Σ = L Lᵀ  ⇒  Σ⁻¹ = L⁻ᵀ L⁻¹: scikit-learn stores the upper factor L⁻ᵀ.
        if d <= _BATCHED_MAX_FEATURES:
            try:
                cov_chol = np.linalg.cholesky(stack)  # batched: all components in one call
            except np.linalg.LinAlgError:
                for k, cov in enumerate(stack):  # find which one failed, to name it
                    try:
                        np.linalg.cholesky(cov)
                    except np.linalg.LinAlgError:
                        raise NotPositiveDefiniteError(k) from None
                raise
            out = np.swapaxes(np.linalg.inv(cov_chol), 1, 2)
        else:
            from scipy.linalg import lapack  # loads on first use (start-up)

            out = np.empty_like(stack)
            for k, cov in enumerate(stack):
                # LAPACK on one Fortran-ordered copy: potrf factors Σ = UᵀU (U = Lᵀ; Σ is
                # symmetric, so its transposed view is Σ itself), trtri inverts U in
                # place, and U⁻¹ = L⁻ᵀ is the factor wanted.
                factor, info = lapack.dpotrf(cov.T, lower=0, clean=1)
                if info != 0:
                    raise NotPositiveDefiniteError(k)
                inverse, info = lapack.dtrtri(factor, lower=0, overwrite_c=1)
                out[k] = inverse
        return out[0] if self.covariance_type == "tied" else out

    def precisions(self) -> np.ndarray:
        """Precision matrices (inverse covariances) in scikit-learn's shape."""
        pc = self.precisions_cholesky()
        if self.covariance_type == "full":
            return pc @ np.swapaxes(pc, 1, 2)
        if self.covariance_type == "tied":
            return pc @ pc.T
        return pc**2

    def with_means(self, means: np.ndarray) -> MixtureParams:
        return MixtureParams(self.covariance_type, self.weights, means, self.covariances)


def n_parameters(covariance_type: str, n_components: int, n_features: int) -> int:
    """Number of free parameters of a mixture (as scikit-learn counts them).

    ``K - 1`` weights, ``K·D`` means, and covariance parameters: ``K·D(D+1)/2``
    for 'full', ``D(D+1)/2`` for 'tied', ``K·D`` for 'diag', ``K`` for 'spherical'.
    """
    k, d = n_components, n_features
    cov = {
        "full": k * d * (d + 1) // 2,
        "tied": d * (d + 1) // 2,
        "diag": k * d,
        "spherical": k,
    }[check_covariance_type(covariance_type)]
    return cov + k * d + k - 1
