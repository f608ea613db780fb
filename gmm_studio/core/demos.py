"""Demos: one click loads data and settings that show one idea of the course notes.

Qt-free definitions; the window lists :data:`DEMO_TITLES` in Help › Demos and calls
:func:`build_demo` with the chosen key.  Every demo is seeded, so it looks the same in every
lecture.  A :class:`Demo` says what to load (points, labels, the truth when there is one), how
to fit (a :class:`~gmm_studio.core.settings.FitSettings`, the algorithm, optionally the exact
starting parameters) and what to look for (two or three sentences for the window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from gmm_studio.core.generate import GeneratorSettings, generate, sample_mixture
from gmm_studio.core.params import MixtureParams
from gmm_studio.core.settings import FitSettings

__all__ = ["DEMO_TITLES", "Demo", "build_demo"]

Algorithm = Literal["em", "kmeans", "compare"]


@dataclass(frozen=True, eq=False)
class Demo:
    """Everything one demo loads.

    Attributes
    ----------
    key, title : str
        The key for :func:`build_demo`; the menu entry.
    explanation : str
        Two or three sentences: what happens and what to look at.
    values : ndarray (N, D)
    labels : ndarray (N,) of int or None
        Where each point came from (-1 for outliers), for colouring by truth and the ARI.
    truth : MixtureParams or None
        The generating mixture, when it is one.
    settings : FitSettings
    algorithm : {'em', 'kmeans', 'compare'}
        'compare' shows K-means and EM from the same initial means side by side.
    initial : MixtureParams or None
        Start from exactly these parameters (instead of ``settings.init_params``).
    k_values : tuple of int or None
        Run the K sweep over these values (the "choosing K" demo).
    columns : tuple of str
    """

    key: str
    title: str
    explanation: str
    values: np.ndarray
    labels: np.ndarray | None
    truth: MixtureParams | None
    settings: FitSettings
    algorithm: Algorithm = "em"
    initial: MixtureParams | None = None
    k_values: tuple[int, ...] | None = None
    columns: tuple[str, ...] = ("x1", "x2")


@dataclass(frozen=True)
class _Generated:
    """A demo whose data come from :func:`~gmm_studio.core.generate.generate`."""

    explanation: str
    generator: GeneratorSettings
    settings: FitSettings
    k_values: tuple[int, ...] | None = None


_GENERATED: dict[str, _Generated] = {
    "well_separated": _Generated(
        "Three compact clusters far apart: EM finds them in three iterations and almost every "
        "responsibility is 0 or 1. This is the easy case where soft and hard assignments agree.",
        GeneratorSettings(n_components=3, n_samples=600, separation=7.0, shape="spherical", seed=1),
        FitSettings(n_components=3, init_params="random_from_data", seed=1),
    ),
    "overlapping": _Generated(
        "The components overlap, so points in between are shared: their colours blend because "
        "their responsibilities are soft. EM needs many small steps here; watch the "
        "log-likelihood creep up and the bound view's gap shrink.",
        GeneratorSettings(n_components=3, n_samples=800, separation=1.8, shape="rotated", seed=4),
        FitSettings(n_components=3, init_params="random_from_data", seed=10, max_iter=300, tol=1e-5),
    ),
    "unequal_weights": _Generated(
        "One component holds 75 % of the points, another 5 %. The weights π_k are learnt with "
        "everything else: compare the fitted weights in the table with the truth.",
        GeneratorSettings(n_components=3, n_samples=1000, separation=4.0, shape="spherical",
                          weights=(0.75, 0.2, 0.05), seed=2),
        FitSettings(n_components=3, init_params="kmeans", seed=0),
    ),
    "elongated": _Generated(
        "Long, tilted clusters close together need full covariances: each ellipse turns and "
        "stretches to its cluster. Switch the covariance type to 'spherical' and refit: circles "
        "cannot follow the clusters, cut across them, and the ARI drops.",
        GeneratorSettings(n_components=3, n_samples=900, separation=2.5, shape="rotated", seed=6),
        FitSettings(n_components=3, covariance_type="full", init_params="random_from_data", seed=2),
    ),
    "moons": _Generated(
        "Two interleaved half circles are not Gaussian, so two components cannot describe them. "
        "With more components (try K = 8) the mixture strings ellipses along each moon: a "
        "mixture can approximate any density, but a component is then not a cluster.",
        GeneratorSettings(n_components=2, n_samples=800, separation=6.0, shape="moons", seed=0),
        FitSettings(n_components=2, init_params="kmeans", seed=0),
    ),
    "outliers": _Generated(
        "Eight percent of the points are uniform background noise. Gaussian tails are thin, so "
        "the outliers inflate the covariances; with one more component (K = 4) a wide "
        "component takes the background and the clusters tighten.",
        GeneratorSettings(n_components=3, n_samples=800, separation=5.0, shape="spherical",
                          outlier_fraction=0.08, seed=3),
        FitSettings(n_components=3, init_params="kmeans", seed=0),
    ),
    "choosing_k": _Generated(
        "The training log-likelihood keeps rising as K grows, so it cannot choose K. The sweep "
        "scores K = 1 to 8: BIC is lowest at the four clusters that made the data, and the "
        "held-out log-likelihood (choose it as the criterion) stops rising there.",
        GeneratorSettings(n_components=4, n_samples=1000, separation=4.0, shape="rotated", seed=8),
        FitSettings(n_components=4, init_params="kmeans", seed=0, n_init=3),
        k_values=tuple(range(1, 9)),
    ),
}


def _generated(key: str, title: str) -> Demo:
    spec = _GENERATED[key]
    data = generate(spec.generator)
    return Demo(key, title, spec.explanation, data.values, data.labels, data.truth, spec.settings,
                k_values=spec.k_values)


def _singularity(key: str, title: str) -> Demo:
    # Few points (each is 1 % of the mean log-likelihood), the lone point 2 units beside its
    # blob, and a third component on it wide enough to hold some of the blob's edge at first:
    # it lets go of them over a few iterations, then shrinks onto the lone point, so L rises
    # slowly and then steeply until the covariance is singular to rounding.
    data = generate(GeneratorSettings(n_components=2, n_samples=100, separation=5.0,
                                      shape="spherical", seed=3))
    lone = np.array([data.values[:, 0].max() + 2.0, data.values[:, 1].mean()])
    values = np.vstack([data.values, lone])
    labels = np.append(data.labels, -1)
    truth = data.truth
    initial = MixtureParams(
        "full", np.append(0.9 * truth.weights, 0.1), np.vstack([truth.means, lone]),
        np.concatenate([truth.covariances, np.eye(2)[None]]),
    )
    return Demo(
        key, title,
        "With reg_covar = 0, the third component sits on a single point and can shrink its "
        "variance towards zero: its density there, hence L, grows without bound, a little at "
        "first and then steeply. EM stops when the covariance becomes singular and the diagnosis "
        "says why: this is why reg_covar exists and why the training likelihood alone cannot "
        "choose a model.",
        values, labels, None,
        FitSettings(n_components=3, init_params="random_from_data", reg_covar=0.0, tol=0.0,
                    max_iter=50),
        initial=initial,
    )


def _kmeans_vs_em(key: str, title: str) -> Demo:
    # A wide cluster beside a tight one and a flat one: K-means' nearest-centre cells cut the
    # wide cluster at the midpoints between centres; EM learns each spread and shape.
    truth = MixtureParams(
        "full", [0.6, 0.2, 0.2], [[0.0, 0.0], [4.0, 0.5], [-0.5, 5.0]],
        [[[4.0, 0.0], [0.0, 4.0]], [[0.15, 0.0], [0.0, 0.15]], [[3.0, 0.0], [0.0, 0.08]]],
    )
    values, labels = sample_mixture(truth, 900, np.random.default_rng(1))
    return Demo(
        key, title,
        "K-means puts every point in its nearest centre's cluster, so the boundaries lie "
        "halfway between centres whatever the clusters' sizes and shapes; here they cut into "
        "the wide cluster. EM from the same initial means learns each spread and shape: "
        "compare the two ARIs.",
        values, labels, truth,
        FitSettings(n_components=3, covariance_type="full", init_params="random_from_data", seed=1),
        algorithm="compare",
    )


_BUILDERS: dict[str, tuple[str, Callable[[str, str], Demo]]] = {
    "well_separated": ("Well separated clusters", _generated),
    "overlapping": ("Overlapping components", _generated),
    "unequal_weights": ("Unequal weights", _generated),
    "elongated": ("Elongated components", _generated),
    "moons": ("Non-Gaussian data: two moons", _generated),
    "outliers": ("Outliers", _generated),
    "singularity": ("The singularity: a component on one point", _singularity),
    "choosing_k": ("Choosing K", _generated),
    "kmeans_vs_em": ("K-means vs EM", _kmeans_vs_em),
}

#: Menu order: key → title.
DEMO_TITLES: dict[str, str] = {key: title for key, (title, _) in _BUILDERS.items()}


def build_demo(key: str) -> Demo:
    """Build one demo's data and settings (deterministic; a few milliseconds).  Any thread."""
    if key not in _BUILDERS:
        raise ValueError(f"Unknown demo {key!r}: choose one of " + ", ".join(map(repr, _BUILDERS)) + ".")
    title, builder = _BUILDERS[key]
    return builder(key, title)
