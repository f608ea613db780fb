"""The Qt-free core of GMM Studio: EM engine, estimator, model selection, data I/O.

Nothing here imports PySide6, pyqtgraph or :mod:`gmm_studio.ui`; the GUI, the
command line and the tests all build on this package.
"""

from gmm_studio.core.em import (
    ComponentDiagnostics,
    DegeneracyEvent,
    DegenerateMixtureError,
    EMData,
    Snapshot,
    em_steps,
)
from gmm_studio.core.mixture import (
    ConvergenceWarning,
    DegeneracyWarning,
    GaussianMixture,
    NotFittedError,
    RestartHistory,
)
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams, n_parameters
from gmm_studio.core.selection import aic, bic, icl

__all__ = [
    "COVARIANCE_TYPES",
    "ComponentDiagnostics",
    "ConvergenceWarning",
    "DegeneracyEvent",
    "DegeneracyWarning",
    "DegenerateMixtureError",
    "EMData",
    "GaussianMixture",
    "MixtureParams",
    "NotFittedError",
    "RestartHistory",
    "Snapshot",
    "aic",
    "bic",
    "em_steps",
    "icl",
    "n_parameters",
]
