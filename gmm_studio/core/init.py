"""Starting points for EM: scikit-learn's four initialisations, clicked means, re-seeding.

Every initialiser produces responsibilities (hard ones as labels, never as an (N, K) one-hot
array) and turns them into parameters with the engine's own M-step, as scikit-learn's
``_initialize`` does, with one change: the two that pick one data point per component
('k-means++', 'random_from_data') keep those points as the means but give each component the
weight and spread of the points nearest it.  scikit-learn's M-step on one point leaves a
covariance of ``reg_covar`` alone, whose first E-step lies about a million nats per point below
any fit: a useless first picture for someone stepping from the start.  EM's fixed points are
the same; only the path to them changes.
"""

from __future__ import annotations

import numpy as np

from gmm_studio.core.em import EMData, check_n_components, check_reg_covar
from gmm_studio.core.geometry import nearest_centres
from gmm_studio.core.params import MixtureParams, check_choice

INIT_METHODS: tuple[str, ...] = ("kmeans", "k-means++", "random", "random_from_data")

#: The initialisations that pick one data point per component as its mean.
SEED_METHODS: tuple[str, ...] = ("k-means++", "random_from_data")

RandomLike = int | np.random.Generator | np.random.RandomState | None


def check_random_state(seed: RandomLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int, None, a Generator or a legacy RandomState."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(np.iinfo(np.int32).max))
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.default_rng(seed)
    raise ValueError(f"random_state must be None, an int or a numpy random generator; got {seed!r}.")


def check_init_method(init_params: str) -> str:
    return check_choice("init_params", init_params, INIT_METHODS)


def kmeans_plusplus(x: np.ndarray, n_clusters: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n_clusters`` seeds drawn by k-means++ (D² sampling)."""
    n = len(x)
    indices = np.empty(n_clusters, dtype=np.intp)
    indices[0] = rng.integers(n)
    closest = np.sum((x - x[indices[0]]) ** 2, axis=1)
    for c in range(1, n_clusters):
        total = closest.sum()
        if total > 0:
            candidate = int(np.searchsorted(np.cumsum(closest), rng.random() * total))
            indices[c] = min(candidate, n - 1)
        else:  # every point coincides with a seed already
            indices[c] = rng.integers(n)
        np.minimum(closest, np.sum((x - x[indices[c]]) ** 2, axis=1), out=closest)
    return indices


def preload_fit_modules() -> None:
    """Import the scipy modules a first fit loads (scipy.cluster, which brings scipy.sparse and
    scipy.spatial, and scipy.linalg): ~0.3 s that the window pays on a background thread after
    it is shown, not in the person's first Run.  Any thread; idempotent."""
    import scipy.cluster.vq  # noqa: F401
    import scipy.linalg.lapack  # noqa: F401


def seed_rows(x: np.ndarray, n_components: int, method: str, rng: np.random.Generator) -> np.ndarray:
    """The rows whose points the seed initialisations ('k-means++', 'random_from_data') take
    as means, drawn as scikit-learn draws them."""
    if method == "k-means++":
        return kmeans_plusplus(x, n_components, rng)
    return rng.choice(len(x), size=n_components, replace=False)


def kmeans_labels(x: np.ndarray, n_components: int, rng: np.random.Generator,
                  subsample: int | None = None) -> np.ndarray:
    """Hard labels of k-means (k-means++ seeds, then Lloyd's iterations), scikit-learn's
    'kmeans' initialisation.  With ``subsample``, k-means runs on at most that many random
    rows and every row then joins its nearest centre (a K sweep's many restarts use this; the
    centres barely move)."""
    from scipy.cluster.vq import ClusterError, kmeans2  # loads on first use (start-up)

    n = len(x)
    # k-means needs at least K rows to seed from, whatever the subsample asks
    rows = None if subsample is None else max(int(subsample), n_components)
    fit_on = x if rows is None or n <= rows else x[rng.choice(n, rows, replace=False)]
    centres = fit_on[kmeans_plusplus(fit_on, n_components, rng)]
    try:
        centres, _ = kmeans2(fit_on, centres, minit="matrix", missing="raise", seed=rng)
    except ClusterError:  # a cluster emptied: keep the k-means++ seeds
        pass
    return nearest_centres(x, centres)[0]


def random_responsibilities(n_rows: int, n_components: int, rng: np.random.Generator) -> np.ndarray:
    """scikit-learn's 'random' initialisation: uniform random responsibilities, rows summing to 1."""
    resp = rng.uniform(size=(n_rows, n_components))
    return resp / resp.sum(axis=1, keepdims=True)


def initialize(
    data: EMData,
    x: np.ndarray,
    n_components: int,
    method: str,
    rng: np.random.Generator,
    reg_covar: float,
    weights_init: np.ndarray | None = None,
    means_init: np.ndarray | None = None,
    precisions_init: np.ndarray | None = None,
    subsample: int | None = None,
) -> MixtureParams:
    """Initial parameters, with any of weights, means or precisions given by the caller.

    As in scikit-learn, what the caller gives replaces what the initialiser
    estimated; precisions are inverted to covariances.  When all three are
    given the initialiser does not run at all (it would be thrown away).

    Raises ``ValueError`` with what to change when K exceeds the number of
    points, K is not a positive integer, or reg_covar is negative.
    """
    check_n_components(n_components, data.n_samples)
    check_reg_covar(reg_covar)
    if weights_init is not None and means_init is not None and precisions_init is not None:
        covariances = covariances_from_precisions(precisions_init, data.covariance_type)
        return MixtureParams(data.covariance_type, weights_init, means_init, covariances)
    check_init_method(method)
    # Hard assignments go to the M-step as labels: their one-hot (N, K) array would be paged
    # in by the kernel at every start (800 MB at N = 1e7, K = 10).
    if method in SEED_METHODS:  # one point per component: see the module's docstring
        params = params_from_means(data, x, x[seed_rows(x, n_components, method, rng)], reg_covar)
    elif method == "kmeans":
        params = data.params_from_labels(kmeans_labels(x, n_components, rng, subsample),
                                         n_components, reg_covar)
    else:
        params = data.params_from_responsibilities(
            random_responsibilities(len(x), n_components, rng), reg_covar)
    weights = params.weights if weights_init is None else weights_init
    means = params.means if means_init is None else means_init
    covariances = params.covariances
    if precisions_init is not None:
        covariances = covariances_from_precisions(precisions_init, params.covariance_type)
    return MixtureParams(params.covariance_type, weights, means, covariances)


def covariances_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    """Invert precisions given in scikit-learn's shape for the type."""
    precisions = np.asarray(precisions, dtype=np.float64)
    if covariance_type in ("diag", "spherical"):
        return 1.0 / precisions
    return np.linalg.inv(precisions)


def params_from_means(
    data: EMData, x: np.ndarray, means: np.ndarray, reg_covar: float
) -> MixtureParams:
    """Parameters around means a person placed: each point goes to its nearest mean.

    Weights and covariances come from that hard assignment (one M-step); the
    means stay exactly where they were placed.
    """
    means = np.asarray(means, dtype=np.float64)
    check_n_components(len(means), len(x))
    labels, _ = nearest_centres(x, means)
    return data.params_from_labels(labels, len(means), reg_covar).with_means(means)


def reseed_component(
    data: EMData, x: np.ndarray, params: MixtureParams, component: int, rng: np.random.Generator
) -> MixtureParams:
    """Move one (collapsed or empty) component to where the model explains the data worst.

    Its new mean is drawn from the 1 % of points with the lowest density under
    the other components; its covariance becomes the data's covariance divided
    by K (its shape kept for 'tied'); its weight 1/K before renormalising.
    """
    k, d = params.n_components, params.n_features
    means = params.means.copy()
    others = np.arange(k) != component
    if others.any():
        rest = MixtureParams(
            params.covariance_type,
            params.weights[others] / params.weights[others].sum(),
            params.means[others],
            params.covariances if params.covariance_type == "tied" else params.covariances[others],
        )
        log_density = data.log_prob_norm(rest)
        candidates = np.argsort(log_density)[: max(1, len(x) // 100)]
    else:
        candidates = np.arange(len(x))
    means[component] = x[rng.choice(candidates)]
    weights = params.weights.copy()
    weights[component] = 1.0 / k
    weights /= weights.sum()
    spread = np.atleast_2d(np.cov(x, rowvar=False)) / k + 1e-6 * np.eye(d)
    covariances = params.covariances.copy()
    if params.covariance_type == "full":
        covariances[component] = spread
    elif params.covariance_type == "diag":
        covariances[component] = np.diag(spread)
    elif params.covariance_type == "spherical":
        covariances[component] = np.trace(spread) / d
    return MixtureParams(params.covariance_type, weights, means, covariances)
