"""The fit settings a person chooses in the window (and the CLI can share).

A plain frozen dataclass: the UI persists it with ``QSettings`` via :meth:`FitSettings.to_dict`
and :meth:`FitSettings.from_dict`, which ignores unknown keys and falls back to defaults for
values that do not validate (settings files outlive versions).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

from gmm_studio.core.init import INIT_METHODS
from gmm_studio.core.params import COVARIANCE_TYPES

#: The initialisation that waits for a person to click the initial means into the data view.
CLICK_INIT = "click"
#: Every value ``FitSettings.init_params`` accepts: the engine's four and click-to-place.
INIT_CHOICES: tuple[str, ...] = (*INIT_METHODS, CLICK_INIT)
MAX_COMPONENTS = 20
#: The fitting algorithms: EM, or Lloyd's K-means (EM's hard limit, watched the same way).
ALGORITHMS: tuple[str, ...] = ("em", "kmeans")

__all__ = ["ALGORITHMS", "CLICK_INIT", "INIT_CHOICES", "MAX_COMPONENTS", "FitSettings"]


@dataclass(frozen=True)
class FitSettings:
    """How EM is run, with scikit-learn's names.

    Parameters
    ----------
    n_components : int, 1 to 20
    covariance_type : {'full', 'tied', 'diag', 'spherical'}
    init_params : one of :data:`INIT_CHOICES` ('click' = place the means by clicking)
    seed : int >= 0
    tol, reg_covar : float >= 0
    max_iter, n_init : int >= 1
    algorithm : one of :data:`ALGORITHMS` ('kmeans': Lloyd's K-means, tol and max_iter apply)
    """

    n_components: int = 4
    covariance_type: str = "full"
    init_params: str = "random_from_data"
    seed: int = 0
    tol: float = 1e-3
    reg_covar: float = 1e-6
    max_iter: int = 100
    n_init: int = 1
    algorithm: str = "em"

    def __post_init__(self) -> None:
        if not 1 <= int(self.n_components) <= MAX_COMPONENTS:
            raise ValueError(f"n_components must be between 1 and {MAX_COMPONENTS}; got {self.n_components!r}.")
        if self.covariance_type not in COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {COVARIANCE_TYPES}; got {self.covariance_type!r}.")
        if self.init_params not in INIT_CHOICES:
            raise ValueError(f"init_params must be one of {INIT_CHOICES}; got {self.init_params!r}.")
        if int(self.seed) < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}.")
        for name in ("tol", "reg_covar"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a non-negative number; got {value!r}.")
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"algorithm must be one of {ALGORITHMS}; got {self.algorithm!r}.")
        for name in ("max_iter", "n_init"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be an integer >= 1; got {getattr(self, name)!r}.")

    def replace(self, **changes) -> FitSettings:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> FitSettings:
        """Settings from a mapping (e.g. QSettings); bad or unknown entries fall back to defaults."""
        result = cls()
        for f in fields(cls):
            if f.name not in values:
                continue
            kind = type(getattr(result, f.name))
            try:
                candidate = replace(result, **{f.name: kind(values[f.name])})
            except (TypeError, ValueError):
                continue
            result = candidate
        return result
