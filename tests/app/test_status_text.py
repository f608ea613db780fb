"""The status line says what was computed where: after an M-step the raised bound B(θ⁽ᵗ⁺¹⁾),
never L(θ⁽ᵗ⁾) beside it as if of the same θ; Δ compares like with like, also after an edit."""

from __future__ import annotations

import re

import numpy as np
from app_helpers import make_session

from gmm_studio.core.params import MixtureParams
from gmm_studio.session import SyncRunner


def delta(text: str) -> float | None:
    found = re.search(r"Δ ([+-][0-9.e+-]+)", text)
    return None if found is None else float(found.group(1))


def test_after_an_m_step_the_line_shows_the_bound_and_says_l_comes_next():
    s = make_session(SyncRunner())
    s.step()
    m = s.history.shown
    assert m.half_step == "M"
    text = s.shown.status_text()
    assert text.startswith(f"iteration 1, after M-step · lower bound B(θ⁽ᵗ⁺¹⁾) {m.lower_bound:.5f} per point, "
                           f"{m.lower_bound - m.log_likelihood:+.2e} above L(θ⁽ᵗ⁾) · "
                           "the log-likelihood L at the new θ is ≥ B: it is known after the next E-step")
    assert f"{m.log_likelihood:.5f}" not in text  # L(θ⁽ᵗ⁾) is not put beside B(θ⁽ᵗ⁺¹⁾)
    s.step_e()
    e = s.history.shown
    assert e.log_likelihood >= m.lower_bound - 1e-12  # L(θ⁽ᵗ⁺¹⁾) ≥ B(θ⁽ᵗ⁺¹⁾), as promised
    text = s.shown.status_text()
    assert text.startswith(f"iteration 2, after E-step · log-likelihood {e.log_likelihood:.5f} per point · Δ ")
    assert delta(text) == float(f"{e.log_likelihood - m.log_likelihood:+.2e}")


def test_after_an_edit_delta_compares_like_with_like():
    s = make_session(SyncRunner())
    for _ in range(2):
        s.step()
    base = s.history.shown.params
    means = base.means.copy()
    means[0] += 3.0  # a worse model, dragged by hand
    s.show_model(MixtureParams(base.covariance_type, base.weights, means, base.covariances),
                 keep_history=True)
    edit = s.history.shown
    text = s.shown.status_text()
    assert text.startswith(f"iteration {edit.iteration}: edited by hand · log-likelihood "
                           f"{edit.log_likelihood:.5f} per point · ") and delta(text) is None
    s.step_e()
    assert delta(s.shown.status_text()) is None  # the E-step before the edit is of another model
    s.step_m()
    m = s.history.shown
    text = s.shown.status_text()
    rise = float(re.search(r"per point, ([+-][0-9.e+-]+) above", text).group(1))
    assert rise >= 0 and rise == float(f"{m.lower_bound - edit.log_likelihood:+.2e}")
    s.step_e()
    e = s.history.shown
    assert delta(s.shown.status_text()) == float(f"{e.log_likelihood - edit.log_likelihood:+.2e}") > 0


def test_states_and_scrubbing_are_named():
    s = make_session(SyncRunner())
    assert s.shown.status_text() == "No model yet."
    s.run()
    final = s.shown.status_text()
    assert final.endswith("the log-likelihood L at the new θ is ≥ B: EM converged without computing it · converged · finished")
    assert float(re.search(r"per point, ([+-][0-9.e+-]+) above", final).group(1)) >= 0  # no rounding noise
    s.scrub(0)
    assert s.shown.status_text() == ("iteration 0: initial parameters · not converged · "
                                     "(scrubbing history — press Live to return)")
    s.show_model(s.history[len(s.history) - 1].params)
    assert s.shown.status_text().startswith("a given model (iteration 0)")
    assert np.isfinite(s.history.shown.params.means).all()
