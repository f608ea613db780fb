"""What the window needs at start-up does not import the slow parts of scipy.

Each check runs in a fresh interpreter and looks at ``sys.modules``: ``scipy.stats`` costs
about 0.6 s to import and ``scipy.optimize`` about 0.3 s, more than the whole bare window.
"""

import subprocess
import sys

import numpy as np
import pytest

from gmm_studio.core.generate import sample_mixture
from gmm_studio.core.params import MixtureParams

SLOW = ("scipy.stats", "scipy.optimize")


def _imported_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {SLOW!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_the_demo_data_and_the_session_need_neither_scipy_stats_nor_optimize():
    code = (
        "from gmm_studio.core.generate import GeneratorSettings, generate, adjusted_rand_index\n"
        "import gmm_studio.core.bound, gmm_studio.core.compare, gmm_studio.core.demos\n"
        "import gmm_studio.core.kmeans, gmm_studio.session\n"
        "data = generate(GeneratorSettings(n_components=4, n_samples=3000, shape='rotated', seed=9))\n"
        "assert adjusted_rand_index(data.labels, data.labels) == 1.0"
    )
    assert _imported_after(code) == set()


def test_a_rotation_in_three_dimensions_imports_scipy_stats_when_it_is_drawn():
    # The check above can fail: scipy.stats does arrive when a shape needs it.
    code = "from gmm_studio.core.generate import GeneratorSettings, generate\n" \
           "generate(GeneratorSettings(n_features=3, shape='rotated', seed=1))"
    assert "scipy.stats" in _imported_after(code)


def test_sampling_from_a_covariance_with_nan_says_which_one():
    covariances = np.array([np.eye(2), [[1.0, np.nan], [np.nan, 1.0]]])
    params = MixtureParams("full", np.array([0.5, 0.5]), np.zeros((2, 2)), covariances)
    with pytest.raises(ValueError, match="covariance 1 has a NaN"):
        sample_mixture(params, 10, np.random.default_rng(0))

