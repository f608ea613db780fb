"""The Qt-free core of GMM Studio: EM engine, estimator, model selection, data I/O.

Nothing here imports PySide6, pyqtgraph or :mod:`gmm_studio.ui`; the GUI, the
command line and the tests all build on this package.
"""

from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams, n_parameters

__all__ = ["COVARIANCE_TYPES", "MixtureParams", "n_parameters"]
