"""Synthetic data: the mixture's generative process, run literally, with its truth kept.

The course presents a Gaussian mixture as a recipe for making data: for each point
``n`` pick a component ``z_n ~ Categorical(π)``, then draw ``x_n ~ N(μ_{z_n}, Σ_{z_n})``.
:func:`sample_mixture` is that recipe, step for step, with a seeded
:class:`numpy.random.Generator`; :func:`generate` builds a mixture from a
:class:`GeneratorSettings`, runs the recipe, and returns the points together with
the labels and parameters that produced them, so that a fit can be compared with
the truth (:func:`compare_to_truth`, :func:`match_components`,
:func:`adjusted_rand_index`).

A few non-Gaussian shapes (two moons, concentric rings, a uniform square) are there
to show what a Gaussian mixture does with data it cannot describe; they have labels
but no Gaussian truth.

Everything is deterministic in ``GeneratorSettings.seed``: one generator is created
from the seed and every random draw comes from it, in a fixed order.

Nothing of scipy is imported with this module, which the window needs at start-up for its
demo: ``scipy.stats`` (about 0.6 s to import) only where a rotation in three or more
dimensions or a Wishart draw is needed, ``scipy.optimize`` where components are matched.
"""

from __future__ import annotations

import copy
import math
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gmm_studio.core.params import MixtureParams

__all__ = [
    "BLOCK_ROWS",
    "GAUSSIAN_SHAPES",
    "MAX_COMPONENTS",
    "MAX_FEATURES",
    "MAX_OUTLIER_FRACTION",
    "MAX_SAMPLES",
    "MAX_SEPARATION",
    "MIN_FEATURES",
    "MIN_SEPARATION",
    "PLANAR_SHAPES",
    "SHAPES",
    "ComponentError",
    "GeneratorSettings",
    "SyntheticData",
    "SyntheticStream",
    "adjusted_rand_index",
    "compare_to_truth",
    "generate",
    "match_components",
    "sample_mixture",
    "stream",
]

Shape = Literal[
    "spherical", "axis_aligned", "rotated", "random", "moons", "rings", "uniform_square", "anisotropic"
]
SHAPES: tuple[str, ...] = (
    "spherical",
    "axis_aligned",
    "rotated",
    "random",
    "moons",
    "rings",
    "uniform_square",
    "anisotropic",
)
#: Shapes whose data come from a Gaussian mixture, so :attr:`SyntheticData.truth` exists.
GAUSSIAN_SHAPES: tuple[str, ...] = ("spherical", "axis_aligned", "rotated", "random", "anisotropic")

MAX_COMPONENTS = 20
#: Points per data set: a CSV of this many rows is several gigabytes already.
MAX_SAMPLES = 100_000_000
MIN_FEATURES = 1
MAX_FEATURES = 10
#: Shapes drawn in a plane, which need at least two dimensions.
PLANAR_SHAPES: tuple[str, ...] = ("moons", "rings")
#: ``separation`` range: beyond it means or noise leave the range where the data are useful.
MIN_SEPARATION = 0.01
MAX_SEPARATION = 1000.0
MAX_OUTLIER_FRACTION = 0.5
#: Points drawn at a time.  Fixed, so the data depend on the seed alone, never on how
#: they are consumed (:func:`generate` at once, or :meth:`SyntheticStream.blocks`).
BLOCK_ROWS = 65_536
#: Under "imbalanced" weights the largest component is this many times the smallest.
IMBALANCE_RATIO = 10.0
#: Aspect ratio (longest / shortest standard deviation) of a 'rotated' component.
ROTATED_ASPECT_RANGE = (3.0, 6.0)
#: Padding of the outliers' box on each side, as a fraction of the data's range.
OUTLIER_BOX_PADDING = 0.1

_DESCRIPTIONS = {
    "spherical": "spherical Gaussian component{s} of different sizes",
    "axis_aligned": "axis-aligned (diagonal) Gaussian component{s}",
    "rotated": "rotated, elongated Gaussian component{s}",
    "random": "Gaussian component{s} with random covariances",
    "anisotropic": "sheared (anisotropic) Gaussian blob{s}",
}


@dataclass(frozen=True)
class GeneratorSettings:
    """What to generate. Invalid settings raise ``ValueError`` on construction.

    Parameters
    ----------
    n_components : int
        K, from 1 to 20. The number of rings for ``shape='rings'``; ignored by
        'moons' (always two) and 'uniform_square' (one label).
    n_samples : int
        N, from K to 100 000 000 (:data:`MAX_SAMPLES`). Includes the outliers.
    n_features : int
        D, from 1 to 10. The non-Gaussian shapes live in the first two dimensions;
        the others hold small Gaussian noise. In one dimension every Gaussian shape
        is K Gaussians on a line: 'spherical', 'axis_aligned', 'rotated' and
        'random' differ only in how their widths vary (nothing can be rotated or
        elongated), and 'anisotropic' gives them all one width; 'uniform_square' is
        uniform on [-1, 1]; 'moons' and 'rings' need two dimensions and are refused.
    weights : 'equal', 'imbalanced' or tuple of K positive numbers
        Mixing proportions π. 'imbalanced' is geometric from the first component to
        the last, the first being ``IMBALANCE_RATIO`` (10) times the last. A tuple
        is normalised to sum to one. Used by the Gaussian shapes and 'rings';
        'moons' always draws its two moons with probability 1/2 each.
    separation : float
        For the Gaussian shapes: the distance between the two *closest* means, in
        units of the largest standard deviation of any component in any direction.
        Covariances are scaled so that this largest standard deviation is exactly 1,
        so ``separation`` is also that distance in data units; every other pair of
        means is at least as far apart. Along the line joining two means each
        component's standard deviation is at most 1, so at ``separation = 2`` the
        closest pair overlaps heavily (for two unit Gaussians, 16 % of either's mass
        is nearer the other mean), at 3 they touch (7 %), at 4 they are apart (2 %)
        and at 6 they are clearly separate (0.1 %); elongated components pointing
        elsewhere overlap less than that.  From 0.01 to 1000.
        For 'moons' and 'rings': the gap between neighbouring structures (0.5
        between the moons, 1 between rings) in units of the noise's standard
        deviation, i.e. the noise is ``gap / separation``. Ignored by
        'uniform_square'.
    shape : str
        One of :data:`SHAPES`. 'spherical': σ_k² I with σ_k varying across
        components; 'axis_aligned': diagonal covariances; 'rotated': each component
        elongated (aspect ratio 3–6) and turned by its own random rotation;
        'random': random SPD (Wishart) covariances; 'anisotropic': scikit-learn's
        "anisotropic blobs", equal round blobs pushed through one shared random
        shear, so all components share one sheared covariance. 'moons': two
        interleaved half circles; 'rings': K concentric rings; 'uniform_square':
        uniform points in [-1, 1]², no clusters at all.
    outlier_fraction : float
        In [0, 0.5]: this fraction of the N points (rounded) is uniform background
        noise over the bounding box of the other points, padded by 10 % of its size
        on each side. Outliers are labelled -1.
    seed : int
        Non-negative seed of the one :class:`numpy.random.Generator` used for
        everything.
    """

    n_components: int = 3
    n_samples: int = 1000
    n_features: int = 2
    weights: Literal["equal", "imbalanced"] | tuple[float, ...] = "equal"
    separation: float = 3.0
    shape: Shape = "rotated"
    outlier_fraction: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        k = _as_int(self.n_components, "n_components")
        n = _as_int(self.n_samples, "n_samples")
        d = _as_int(self.n_features, "n_features")
        seed = _as_int(self.seed, "seed")
        if not 1 <= k <= MAX_COMPONENTS:
            raise ValueError(
                f"n_components must be between 1 and {MAX_COMPONENTS}; got {k}. "
                "Choose a number of components in that range."
            )
        if n < k:
            raise ValueError(
                f"n_samples ({n}) is smaller than n_components ({k}): every component needs "
                "a chance of at least one point. Ask for more samples or fewer components."
            )
        if n > MAX_SAMPLES:
            raise ValueError(
                f"n_samples must be at most {MAX_SAMPLES:,}; got {n:,}. Ask for fewer points."
            )
        if not MIN_FEATURES <= d <= MAX_FEATURES:
            raise ValueError(
                f"n_features must be between {MIN_FEATURES} and {MAX_FEATURES}; got {d}. "
                "Choose a dimension in that range."
            )
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {seed}.")
        if self.shape not in SHAPES:
            raise ValueError(
                f"Unknown shape {self.shape!r}: choose one of "
                + ", ".join(repr(s) for s in SHAPES)
                + "."
            )
        if d < 2 and self.shape in PLANAR_SHAPES:
            raise ValueError(
                f"shape {self.shape!r} is drawn in a plane and needs at least 2 dimensions; "
                "choose 2 or more dimensions, or a Gaussian shape or 'uniform_square' for 1-D data."
            )
        try:
            separation = float(self.separation)
        except (TypeError, ValueError):
            separation = math.nan
        if not MIN_SEPARATION <= separation <= MAX_SEPARATION:
            raise ValueError(
                f"separation must be a positive number from {MIN_SEPARATION:g} to "
                f"{MAX_SEPARATION:g}; got {self.separation!r}. Use e.g. 2 for overlapping "
                "components, 3 for touching, 6 for well apart."
            )
        fraction = float(self.outlier_fraction)
        if not 0.0 <= fraction <= MAX_OUTLIER_FRACTION:
            raise ValueError(
                f"outlier_fraction must be between 0 and {MAX_OUTLIER_FRACTION}; got "
                f"{self.outlier_fraction!r}. Use 0 for no outliers, e.g. 0.05 for 5 %."
            )
        weights = self.weights
        if isinstance(weights, str):
            if weights not in ("equal", "imbalanced"):
                raise ValueError(
                    f"Unknown weights {weights!r}: use 'equal', 'imbalanced', or a tuple of "
                    f"{k} positive numbers."
                )
        else:
            try:
                values = tuple(float(w) for w in weights)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"weights must be 'equal', 'imbalanced' or a sequence of {k} positive "
                    f"numbers; got {weights!r}."
                ) from exc
            if len(values) != k:
                raise ValueError(
                    f"weights has {len(values)} entries but n_components is {k}: give one "
                    "positive weight per component."
                )
            if not all(math.isfinite(w) and w > 0 for w in values):
                raise ValueError(
                    f"weights must all be positive finite numbers; got {values}. "
                    "They are normalised to sum to one, so any positive scale will do."
                )
            if not math.isfinite(sum(values)):
                raise ValueError(
                    f"weights {values} are too large to add up; scale them down (they are "
                    "normalised to sum to one, so any positive scale will do)."
                )
            weights = values
        # Normalise the stored types so equal settings compare and hash equal.
        object.__setattr__(self, "n_components", k)
        object.__setattr__(self, "n_samples", n)
        object.__setattr__(self, "n_features", d)
        object.__setattr__(self, "seed", seed)
        object.__setattr__(self, "separation", separation)
        object.__setattr__(self, "outlier_fraction", fraction)
        object.__setattr__(self, "weights", weights)

    @property
    def is_gaussian(self) -> bool:
        """Whether the data come from a Gaussian mixture (so a truth exists)."""
        return self.shape in GAUSSIAN_SHAPES

    @property
    def n_outliers(self) -> int:
        """How many of the ``n_samples`` points are uniform background noise."""
        # Rounded, but always leaving at least one point that is not an outlier.
        return min(int(round(self.outlier_fraction * self.n_samples)), self.n_samples - 1)

    def mixing_weights(self) -> np.ndarray:
        """The normalised mixing proportions π, shape (K,)."""
        k = self.n_components
        if self.weights == "equal":
            w = np.ones(k)
        elif self.weights == "imbalanced":
            w = IMBALANCE_RATIO ** (-np.arange(k) / max(k - 1, 1))
        else:
            w = np.asarray(self.weights, dtype=np.float64)
        return w / w.sum()


def _as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{name} must be an integer; got {value!r}.")


@dataclass(frozen=True, eq=False)
class SyntheticData:
    """Generated points with the truth that produced them.

    Attributes
    ----------
    values : ndarray of shape (N, D), float64, read-only
    labels : ndarray of shape (N,), int64, read-only
        Index of the component (moon, ring) each point was drawn from; -1 for outliers.
    truth : MixtureParams or None
        The mixture the inliers were drawn from, ``covariance_type='full'``; ``None``
        for the non-Gaussian shapes.
    settings : GeneratorSettings
    description : str
        One sentence for people, e.g. "3 rotated, elongated Gaussian components,
        1000 points, seed 0".
    """

    values: np.ndarray
    labels: np.ndarray
    truth: MixtureParams | None
    settings: GeneratorSettings
    description: str

    def __post_init__(self) -> None:
        values = np.array(self.values, dtype=np.float64, copy=True)
        labels = np.array(self.labels, dtype=np.int64, copy=True)
        if values.ndim != 2 or labels.shape != (values.shape[0],):
            raise ValueError(
                f"values must have shape (N, D) and labels (N,); got {values.shape} and "
                f"{labels.shape}."
            )
        values.setflags(write=False)
        labels.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "labels", labels)


# --------------------------------------------------------------------------- sampling


def _matrix_square_roots(covariances: np.ndarray) -> np.ndarray:
    """Factors ``L`` with ``L Lᵀ = Σ`` for a (K, D, D) stack.

    Cholesky where it works; a positive semi-definite matrix (a collapsed fitted
    component, say) falls back to the symmetric square root from ``eigh``.
    """
    if not np.isfinite(covariances).all():
        bad = int(np.flatnonzero(~np.isfinite(covariances).all(axis=(1, 2)))[0])
        raise ValueError(f"covariance {bad} has a NaN or infinite entry; cannot sample from it.")
    factors = np.empty_like(covariances)
    for k, cov in enumerate(covariances):
        try:
            # numpy's Cholesky is the same LAPACK potrf on the lower triangle as scipy's,
            # without importing scipy.linalg at start-up.
            factors[k] = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            from scipy import linalg  # the rare semi-definite case only

            eigvals, eigvecs = linalg.eigh(cov)
            if eigvals.min() < -1e-8 * max(abs(eigvals.max()), 1.0):
                raise ValueError(
                    f"covariance {k} is not positive semi-definite (smallest eigenvalue "
                    f"{eigvals.min():.3g}); cannot sample from it."
                ) from None
            factors[k] = eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))
    return factors


def sample_mixture(
    params: MixtureParams, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw points from a Gaussian mixture by its generative process.

    For each point ``n``: draw ``z_n ~ Categorical(π)``, then
    ``x_n = μ_{z_n} + L_{z_n} ε_n`` with ``ε_n ~ N(0, I)`` and ``L_k L_kᵀ = Σ_k``,
    so ``x_n ~ N(μ_{z_n}, Σ_{z_n})``. The draws are vectorised (all ``z`` first,
    then all ``ε``, then one matrix product per component) but are exactly that
    process.

    Parameters
    ----------
    params : MixtureParams
        Any covariance type.
    n_samples : int
        N >= 0.
    rng : numpy.random.Generator
        The only source of randomness.

    Returns
    -------
    values : ndarray of shape (N, D), float64
    labels : ndarray of shape (N,), int64
        The drawn ``z_n``.
    """
    n = _as_int(n_samples, "n_samples")
    if n < 0:
        raise ValueError(f"n_samples must be >= 0; got {n}.")
    weights = params.weights
    if np.any(~(weights >= 0)) or not weights.sum() > 0:
        raise ValueError(f"mixing weights must be non-negative with a positive sum; got {weights}.")
    k, d = params.means.shape
    factors = _matrix_square_roots(params.full_covariances())

    labels = rng.choice(k, size=n, p=weights / weights.sum()).astype(np.int64)
    noise = rng.standard_normal((n, d))
    values = np.empty((n, d))
    for j in range(k):
        members = labels == j
        # A C-contiguous Lᵀ: numpy's matmul against a transposed view is ~100x slower
        # for tall, narrow operands.
        values[members] = noise[members] @ np.ascontiguousarray(factors[j].T) + params.means[j]
    return values, labels


# ------------------------------------------------------------------ Gaussian truths


def _spherical_covariances(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    sigmas = rng.uniform(0.4, 1.0, size=k)
    return sigmas[:, None, None] ** 2 * np.eye(d)


def _axis_aligned_covariances(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    # Log-uniform standard deviations spanning up to a factor of 4 per axis.
    stds = np.exp(rng.uniform(np.log(0.25), 0.0, size=(k, d)))
    return stds[:, :, None] ** 2 * np.eye(d)


def _random_rotation(d: int, rng: np.random.Generator) -> np.ndarray:
    if d == 1:
        return np.ones((1, 1))  # a line has no rotation but itself
    if d == 2:
        angle = rng.uniform(0.0, np.pi)
        c, s = np.cos(angle), np.sin(angle)
        return np.array([[c, -s], [s, c]])
    from scipy import stats  # ~0.6 s to import: only for rotations in 3 or more dimensions

    return stats.special_ortho_group.rvs(dim=d, random_state=rng)


def _rotated_covariances(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    covs = np.empty((k, d, d))
    for j in range(k):
        major = rng.uniform(0.7, 1.0)
        aspect = rng.uniform(*ROTATED_ASPECT_RANGE)
        # Standard deviations from `major` down to `major / aspect`, geometric in between.
        stds = major * aspect ** (-np.linspace(0.0, 1.0, d))
        rotation = _random_rotation(d, rng)
        covs[j] = (rotation * stds**2) @ rotation.T
    return covs


def _random_covariances(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    from scipy import stats  # ~0.6 s to import: only for this shape

    df = d + 2
    wishart = stats.wishart(df=df, scale=np.eye(d) / df)
    covs = np.empty((k, d, d))
    for j in range(k):
        cov = np.atleast_2d(wishart.rvs(random_state=rng))
        # A Wishart draw can be nearly singular; a floor keeps it a usable Gaussian.
        covs[j] = cov + 0.02 * np.linalg.eigvalsh(cov)[-1] * np.eye(d)
    return covs


def _anisotropic_covariances(k: int, d: int, rng: np.random.Generator) -> np.ndarray:
    # scikit-learn's "anisotropic blobs": round blobs, then x -> T x for one shared
    # shear T (unit diagonal, a random shear between neighbouring axes).
    shear = np.eye(d)
    signs = rng.choice([-1.0, 1.0], size=d - 1)
    shear[np.arange(1, d), np.arange(d - 1)] = signs * rng.uniform(0.5, 1.0, size=d - 1)
    return np.broadcast_to(shear @ shear.T, (k, d, d)).copy()


_COVARIANCE_MAKERS = {
    "spherical": _spherical_covariances,
    "axis_aligned": _axis_aligned_covariances,
    "rotated": _rotated_covariances,
    "random": _random_covariances,
    "anisotropic": _anisotropic_covariances,
}


def _place_means(k: int, d: int, min_distance: float, rng: np.random.Generator) -> np.ndarray:
    """K random points whose closest pair is exactly ``min_distance`` apart, centred on 0.

    Candidates are drawn uniformly in a cube and accepted greedily when far enough
    from those already accepted (the cube grows if too few fit); the accepted
    layout is then scaled about its centre so the closest pair sits at exactly
    ``min_distance``. Deterministic in ``rng`` and quick for K <= 20.
    """
    if k == 1:
        return np.zeros((1, d))
    side = min_distance * max(2.0, 1.5 * k ** (1.0 / d))
    while True:
        candidates = rng.uniform(-side / 2, side / 2, size=(64 * k, d))
        accepted = [candidates[0]]
        for point in candidates[1:]:
            if np.min(np.sum((np.asarray(accepted) - point) ** 2, axis=1)) >= min_distance**2:
                accepted.append(point)
                if len(accepted) == k:
                    break
        if len(accepted) == k:
            break
        side *= 1.25
    means = np.asarray(accepted)
    means = means - means.mean(axis=0)
    return means * (min_distance / _closest_pair_distance(means))


def _closest_pair_distance(points: np.ndarray) -> float:
    """The smallest Euclidean distance between two of ``points`` (M >= 2, D).

    The same float as ``scipy.spatial.distance.pdist(points).min()``: squared differences
    summed one coordinate after another, as pdist does, and sqrt is monotone.  Written out to
    spare start-up the import of scipy.spatial (~0.1 s).
    """
    rows, cols = np.triu_indices(points.shape[0], k=1)
    squared = np.zeros(rows.size)
    for j in range(points.shape[1]):
        squared += (points[rows, j] - points[cols, j]) ** 2
    return float(np.sqrt(squared.min()))


def _gaussian_truth(settings: GeneratorSettings, rng: np.random.Generator) -> MixtureParams:
    k, d = settings.n_components, settings.n_features
    covs = _COVARIANCE_MAKERS[settings.shape](k, d, rng)
    covs = 0.5 * (covs + np.swapaxes(covs, 1, 2))
    # Scale so the largest standard deviation of any component in any direction is 1:
    # `separation` is then a distance in those units and in data units alike.
    covs /= np.linalg.eigvalsh(covs).max()
    means = _place_means(k, d, settings.separation, rng)
    return MixtureParams("full", settings.mixing_weights(), means, covs)


# ------------------------------------------------------------------ other shapes


def _pad(points_2d: np.ndarray, d: int, std: float, rng: np.random.Generator) -> np.ndarray:
    if d <= 2:
        return points_2d[:, :d]
    return np.hstack([points_2d, std * rng.standard_normal((points_2d.shape[0], d - 2))])


def _moons(n: int, d: int, separation: float, rng: np.random.Generator):
    # scikit-learn's two moons: the gap between the moons is 0.5.
    noise = 0.5 / separation
    labels = rng.choice(2, size=n).astype(np.int64)
    t = rng.uniform(0.0, np.pi, size=n)
    x = np.where(labels == 0, np.cos(t), 1.0 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    points = np.column_stack([x - 0.5, y - 0.25]) + noise * rng.standard_normal((n, 2))
    return _pad(points, d, noise, rng), labels


def _rings(settings: GeneratorSettings, n: int, rng: np.random.Generator):
    # Ring k has radius k + 1: neighbouring rings are 1 apart.
    noise = 1.0 / settings.separation
    k = settings.n_components
    labels = rng.choice(k, size=n, p=settings.mixing_weights()).astype(np.int64)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n)
    radius = labels + 1.0
    points = radius[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    points += noise * rng.standard_normal((n, 2))
    return _pad(points, settings.n_features, noise, rng), labels


def _uniform_square(n: int, d: int, rng: np.random.Generator):
    points = rng.uniform(-1.0, 1.0, size=(n, min(d, 2)))
    return _pad(points, d, 0.05, rng), np.zeros(n, dtype=np.int64)


# ------------------------------------------------------------------ generate


def _describe(settings: GeneratorSettings) -> str:
    k, d = settings.n_components, settings.n_features
    plural = "s" if k != 1 else ""
    if settings.shape == "moons":
        what = "two interleaved moons (not Gaussian)"
    elif settings.shape == "rings":
        what = f"{k} concentric ring{plural} (not Gaussian)"
    elif settings.shape == "uniform_square":
        what = "a uniform interval (no clusters)" if d == 1 else "a uniform square (no clusters)"
    elif d == 1:
        # On a line every Gaussian shape is K Gaussians; only their widths differ.
        widths = "" if k == 1 else (" of one width" if settings.shape == "anisotropic"
                                    else " of different widths")
        what = f"{k} Gaussian component{plural}{widths}"
    elif settings.shape == "spherical" and k == 1:
        what = "1 spherical Gaussian component"
    else:
        what = f"{k} " + _DESCRIPTIONS[settings.shape].format(s=plural)
    parts = [what]
    if d == 1:
        parts.append("in 1 dimension")
    elif d > 2:
        parts.append(f"in {d} dimensions")
    if settings.weights != "equal" and settings.shape not in ("moons", "uniform_square") and k > 1:
        parts.append("imbalanced weights" if settings.weights == "imbalanced" else "custom weights")
    if settings.n_outliers:
        parts.append(f"{100 * settings.outlier_fraction:.3g}% uniform outliers")
    n = settings.n_samples
    parts.append(f"{n} point{'s' if n != 1 else ''}")
    parts.append(f"seed {settings.seed}")
    return ", ".join(parts)


class SyntheticStream:
    """A synthetic data set drawn :data:`BLOCK_ROWS` points at a time, never held whole.

    What :func:`generate` returns, for data sets larger than memory: the truth and
    the description at once, the points from :meth:`blocks`.  Use :func:`stream`
    to make one.

    Random draws: ``numpy.random.default_rng(seed)`` draws the covariances, the
    means, then the inliers block by block (via :func:`sample_mixture` or the
    non-Gaussian shape).  Two streams spawned from ``SeedSequence(seed)`` place
    the outliers: one chooses which rows of each block are outliers (uniformly
    over all arrangements: a hypergeometric count per block, then random rows),
    the other draws their values in the bounding box of all the inliers, padded
    by 10 % (found by a first pass over the inliers, which are drawn again).

    Attributes
    ----------
    truth : MixtureParams or None
    settings : GeneratorSettings
    description : str
    """

    def __init__(self, settings: GeneratorSettings) -> None:
        self.settings = settings
        rng = np.random.default_rng(settings.seed)
        self.truth: MixtureParams | None = (
            _gaussian_truth(settings, rng) if settings.is_gaussian else None
        )
        self._after_truth = rng  # only ever copied: every pass starts from here
        self.description = _describe(settings)

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(values, labels)`` of up to :data:`BLOCK_ROWS` rows each, N rows in all.

        ``values`` is (rows, D) float64 and ``labels`` (rows,) int64, -1 for
        outliers.  Every call draws the same blocks again.
        """
        settings = self.settings
        box = self._outlier_box() if settings.n_outliers else None
        plan_seed, value_seed = np.random.SeedSequence(settings.seed).spawn(2)
        value_rng = np.random.default_rng(value_seed)
        inlier_rng = copy.deepcopy(self._after_truth)
        for size, rows in self._plan(np.random.default_rng(plan_seed)):
            values, labels = self._inliers(size - rows.size, inlier_rng)
            if rows.size:
                outlier = np.zeros(size, dtype=bool)
                outlier[rows] = True
                mixed_values = np.empty((size, settings.n_features))
                mixed_labels = np.full(size, -1, dtype=np.int64)
                mixed_values[~outlier], mixed_labels[~outlier] = values, labels
                mixed_values[outlier] = value_rng.uniform(
                    box[0], box[1], size=(rows.size, settings.n_features))
                values, labels = mixed_values, mixed_labels
            yield values, labels

    def _plan(self, rng: np.random.Generator) -> Iterator[tuple[int, np.ndarray]]:
        """(block size, the block's outlier rows) for every block."""
        n, remaining_outliers = self.settings.n_samples, self.settings.n_outliers
        for start in range(0, n, BLOCK_ROWS):
            size = min(BLOCK_ROWS, n - start)
            count = 0
            if remaining_outliers:
                inliers_left = n - start - remaining_outliers
                count = int(rng.hypergeometric(remaining_outliers, inliers_left, size))
            rows = rng.choice(size, size=count, replace=False) if count else np.empty(0, np.intp)
            remaining_outliers -= count
            yield size, rows

    def _inliers(self, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        settings = self.settings
        if self.truth is not None:
            values, labels = sample_mixture(self.truth, m, rng)
        elif settings.shape == "moons":
            values, labels = _moons(m, settings.n_features, settings.separation, rng)
        elif settings.shape == "rings":
            values, labels = _rings(settings, m, rng)
        else:
            values, labels = _uniform_square(m, settings.n_features, rng)
        return values, labels

    def _outlier_box(self) -> tuple[np.ndarray, np.ndarray]:
        low = np.full(self.settings.n_features, np.inf)
        high = -low
        rng = copy.deepcopy(self._after_truth)
        plan_seed, _ = np.random.SeedSequence(self.settings.seed).spawn(2)
        for size, rows in self._plan(np.random.default_rng(plan_seed)):
            values, _ = self._inliers(size - rows.size, rng)
            if len(values):
                low, high = np.minimum(low, values.min(axis=0)), np.maximum(high, values.max(axis=0))
        span = np.where(high > low, high - low, 1.0)
        return low - OUTLIER_BOX_PADDING * span, high + OUTLIER_BOX_PADDING * span


def stream(settings: GeneratorSettings) -> SyntheticStream:
    """The data set of ``settings`` as a :class:`SyntheticStream` (blocks, not one array)."""
    return SyntheticStream(settings)


def generate(settings: GeneratorSettings) -> SyntheticData:
    """Generate a synthetic data set and keep the truth behind it.

    The same points, in the same order, as :meth:`SyntheticStream.blocks` of
    :func:`stream`, whose docstring gives the order of the random draws; the
    data depend on ``settings`` (its seed included) alone.

    Parameters
    ----------
    settings : GeneratorSettings

    Returns
    -------
    SyntheticData
    """
    source = stream(settings)
    values = np.empty((settings.n_samples, settings.n_features))
    labels = np.empty(settings.n_samples, dtype=np.int64)
    start = 0
    for block_values, block_labels in source.blocks():
        stop = start + len(block_labels)
        values[start:stop], labels[start:stop] = block_values, block_labels
        start = stop
    return SyntheticData(values, labels, source.truth, settings, source.description)


# ------------------------------------------------------------------ comparing with the truth


def match_components(true_means: np.ndarray, fitted_means: np.ndarray) -> np.ndarray:
    """Pair fitted components with true ones, minimising the total squared distance of means.

    EM numbers its components arbitrarily, so before comparing a fit with the truth
    the fitted components must be matched to the true ones. This is an assignment
    problem, solved exactly by :func:`scipy.optimize.linear_sum_assignment`.

    Parameters
    ----------
    true_means : array of shape (K_true, D)
    fitted_means : array of shape (K_fit, D)

    Returns
    -------
    ndarray of shape (K_true,), int64
        ``result[i]`` is the fitted index matched to true component ``i``, or -1
        when ``K_fit < K_true`` leaves it unmatched. Surplus fitted components
        (``K_fit > K_true``) appear nowhere.
    """
    true_means = np.atleast_2d(np.asarray(true_means, dtype=np.float64))
    fitted_means = np.atleast_2d(np.asarray(fitted_means, dtype=np.float64))
    if true_means.ndim != 2 or fitted_means.ndim != 2 or true_means.shape[1] != fitted_means.shape[1]:
        raise ValueError(
            f"true_means and fitted_means must be (K, D) arrays with the same D; got "
            f"{true_means.shape} and {fitted_means.shape}."
        )
    from scipy.optimize import linear_sum_assignment  # ~0.3 s to import; not at start-up

    cost = np.sum((true_means[:, None, :] - fitted_means[None, :, :]) ** 2, axis=2)
    rows, cols = linear_sum_assignment(cost)
    result = np.full(true_means.shape[0], -1, dtype=np.int64)
    result[rows] = cols
    return result


def _pairs(counts: np.ndarray) -> int:
    """Σ C(n, 2) over ``counts``, as an exact Python int."""
    # n (n - 1) / 2 in int64 is exact for n < 2**26 (the product stays below 2**52, the sum
    # of up to N of them far below 2**63). Beyond that (never in practice) Python integers.
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size == 0 or counts.max() < 2**26:
        return int((counts * (counts - 1) // 2).sum())
    return sum(int(c) * (int(c) - 1) // 2 for c in counts)


def adjusted_rand_index(labels_a, labels_b) -> float:
    """Adjusted Rand index of two labelings of the same points (Hubert & Arabie, 1985).

    1 for identical partitions (whatever the label names), about 0 for independent
    random ones, possibly negative. Labels may be any hashable values numpy can sort;
    -1 (outliers) is simply one more class. Same value as
    ``sklearn.metrics.adjusted_rand_score``, computed with exact integer arithmetic.

    Parameters
    ----------
    labels_a, labels_b : array-like of shape (N,)

    Returns
    -------
    float
    """
    a = np.asarray(labels_a)
    b = np.asarray(labels_b)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(
            f"labels_a and labels_b must be 1-D and of the same length; got shapes "
            f"{a.shape} and {b.shape}."
        )
    n = a.shape[0]
    if n < 2:
        return 1.0
    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    ia, ib = ia.ravel().astype(np.int64), ib.ravel().astype(np.int64)
    na, nb = int(ia.max()) + 1, int(ib.max()) + 1
    cells = ia * nb + ib
    if na * nb <= max(4 * n, 1 << 16):
        contingency = np.bincount(cells, minlength=na * nb)
    else:  # many classes (say, all singletons): keep the table sparse
        _, contingency = np.unique(cells, return_counts=True)
    index = _pairs(contingency)
    sum_a = _pairs(np.bincount(ia))
    sum_b = _pairs(np.bincount(ib))
    total = n * (n - 1) // 2
    # ARI = (index - E) / (mean(sum_a, sum_b) - E) with E = sum_a sum_b / total, times 2 total.
    numerator = 2 * (index * total - sum_a * sum_b)
    denominator = (sum_a + sum_b) * total - 2 * sum_a * sum_b
    if denominator == 0:
        # Only when both are one cluster or both all singletons: the same partition.
        return 1.0
    return numerator / denominator


@dataclass(frozen=True)
class ComponentError:
    """How far one fitted component is from the true one it was matched to.

    Attributes
    ----------
    true_index, fitted_index : int
    mean_error : float
        Euclidean distance between the means.
    weight_error : float
        Absolute difference of the mixing weights.
    covariance_error : float
        ``‖Σ̂ - Σ‖_F / ‖Σ‖_F``, the relative Frobenius error of the covariance.
    """

    true_index: int
    fitted_index: int
    mean_error: float
    weight_error: float
    covariance_error: float


def compare_to_truth(
    truth: MixtureParams,
    fitted: MixtureParams,
    true_labels=None,
    fitted_labels=None,
) -> tuple[list[ComponentError], float | None]:
    """Compare a fitted mixture with the one that generated the data.

    Components are matched with :func:`match_components` on their means.

    Parameters
    ----------
    truth, fitted : MixtureParams
        Any covariance types (compared as full matrices); the same dimension D.
    true_labels, fitted_labels : array-like of shape (N,), optional
        Give both or neither. Outliers (-1) count as a class of their own.

    Returns
    -------
    errors : list of ComponentError
        One per *matched* true component, in true-index order; a true component
        left unmatched (fewer fitted than true components) has no entry.
    ari : float or None
        :func:`adjusted_rand_index` of the labels, or ``None`` without labels.
    """
    if truth.n_features != fitted.n_features:
        raise ValueError(
            f"truth has {truth.n_features} features but the fitted mixture has "
            f"{fitted.n_features}; they must describe the same space."
        )
    if (true_labels is None) != (fitted_labels is None):
        raise ValueError("Give both true_labels and fitted_labels, or neither.")
    matching = match_components(truth.means, fitted.means)
    true_covs, fitted_covs = truth.full_covariances(), fitted.full_covariances()
    errors = []
    for i, j in enumerate(matching):
        if j < 0:
            continue
        cov_norm = np.linalg.norm(true_covs[i])
        errors.append(
            ComponentError(
                true_index=i,
                fitted_index=int(j),
                mean_error=float(np.linalg.norm(fitted.means[j] - truth.means[i])),
                weight_error=float(abs(fitted.weights[j] - truth.weights[i])),
                covariance_error=float(np.linalg.norm(fitted_covs[j] - true_covs[i]) / cov_norm),
            )
        )
    ari = None if true_labels is None else adjusted_rand_index(true_labels, fitted_labels)
    return errors, ari
