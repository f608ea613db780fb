"""What ``GaussianMixture.restarts_`` keeps: the whole history of small models, the ends of wide ones."""

import numpy as np
import pytest

from gmm_studio.core import GaussianMixture
from gmm_studio.core.mixture import HISTORY_PARAMS_BYTES


def _two_blobs(n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    x[: n // 2] += 4.0
    return x


pytestmark = pytest.mark.filterwarnings("ignore:Best performing initialization did not converge")


def test_a_small_model_keeps_every_half_step():
    model = GaussianMixture(2, max_iter=4, tol=0.0, random_state=0).fit(_two_blobs(200, 2))
    history = model.restarts_[0]
    assert [s.half_step for s in history.snapshots] == ["init"] + ["E", "M"] * 4
    assert model.lower_bounds_ == [s.log_likelihood for s in history.snapshots if s.half_step == "E"]


def test_a_wide_model_keeps_its_first_and_last_state_and_every_log_likelihood():
    d = 400  # two 400 x 400 covariances: 2.6 MB per half-step
    x = _two_blobs(2000, d)
    model = GaussianMixture(2, covariance_type="full", max_iter=4, tol=0.0, random_state=0).fit(x)
    assert model.covariances_.nbytes > HISTORY_PARAMS_BYTES
    history = model.restarts_[0]
    assert [s.half_step for s in history.snapshots] == ["init", "M"]
    assert len(model.lower_bounds_) == 4 and np.all(np.diff(model.lower_bounds_) >= -1e-9)
    np.testing.assert_array_equal(history.final.params.means, model.means_)
