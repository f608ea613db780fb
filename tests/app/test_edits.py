"""An edit by hand is one history entry with its own figure: EM's log-likelihood, K-means' −J/N."""

from __future__ import annotations

import math

import numpy as np
import pytest
from app_helpers import SETTINGS, Journal, make_session

from gmm_studio.core.editing import edit_component
from gmm_studio.core.kmeans import KMeansSnapshot, kmeans_steps
from gmm_studio.session import ManualRunner, RunState, SyncRunner

KMEANS = SETTINGS.replace(algorithm="kmeans", init_params="random_from_data", seed=5)


def moved(params, k=0, by=(1.5, -0.5)):
    """``params`` with component k's mean moved ``by`` in the plane (its covariance kept)."""
    cov = params.full_covariances()[k]
    return edit_component(params, k, params.means[k] + np.array(by), cov)


def test_an_edit_gets_its_mean_log_likelihood_and_em_continues_from_it():
    session = make_session(ManualRunner())
    session.step()
    session.runner.run_all()
    n = len(session.history)
    edited = moved(session.history.shown.params)
    journal = Journal(session)
    session.show_model(edited, keep_history=True)
    entry = session.history.shown
    assert session.history.origins[-1] == "edit" and len(session.history) == n + 1
    assert math.isnan(entry.log_likelihood)  # computed on the runner, not here
    assert session.runner.is_running("edit_figures")
    session.runner.run_all()
    filled = session.history.shown
    expected = session.emdata("full").mean_log_likelihood(edited)
    assert filled.params is edited and filled.log_likelihood == pytest.approx(expected)
    assert session.shown.snapshot is filled and journal.of("shown_changed")[-1] is filled
    assert journal.of("history_changed")  # the curve is redrawn through the edit
    assert session.shown.status_text().startswith(f"iteration {filled.iteration}: edited by hand · "
                                                   f"log-likelihood {expected:.5f}")
    np.testing.assert_allclose(session.shown.responsibilities,
                               session.emdata("full").responsibilities(edited))
    session.step()
    session.runner.run_all()
    e_step = session.history[n + 1]
    assert e_step.half_step == "E" and e_step.log_likelihood == pytest.approx(expected)


def test_a_second_edit_before_the_first_figure_arrives_fills_both():
    session = make_session(ManualRunner())
    session.step()
    session.runner.run_all()
    first = moved(session.history.shown.params)
    session.show_model(first, keep_history=True)
    second = moved(first, k=1)
    session.show_model(second, keep_history=True)  # the first task goes stale
    session.runner.run_all()
    figures = [e.log_likelihood for e, o in zip(session.history, session.history.origins) if o == "edit"]
    data = session.emdata("full")
    assert figures == pytest.approx([data.mean_log_likelihood(first), data.mean_log_likelihood(second)])


def test_moved_kmeans_centres_stay_kmeans_with_their_objective_and_kmeans_continues():
    session = make_session(SyncRunner(), settings=KMEANS.replace(covariance_type="diag"))
    session.step()
    shown = session.history.shown
    assert isinstance(shown, KMeansSnapshot)
    edited = moved(shown.params, k=2, by=(2.0, 2.0))
    session.show_model(edited, keep_history=True)
    entry = session.history.shown
    assert isinstance(entry, KMeansSnapshot) and session.history.origins[-1] == "edit"
    x = session.x
    objective = float(np.min(((x[:, None, :] - edited.means[None]) ** 2).sum(axis=2), axis=1).sum())
    assert entry.objective == pytest.approx(objective)
    assert entry.log_likelihood == pytest.approx(-objective / len(x))
    assert session.settings.covariance_type == "diag"  # moving centres does not choose EM's type
    gamma = session.shown.responsibilities
    np.testing.assert_array_equal(np.unique(gamma), [0.0, 1.0])
    assert session.shown.status_text().startswith(f"iteration {entry.iteration}: edited by hand · WCSS/N "
                                                   f"{-entry.log_likelihood:.5f} · ")
    session.resume()
    assert session.state is RunState.FINISHED
    after = session.history.entries[len(session.history) - 1]
    assert isinstance(after, KMeansSnapshot)
    *_, expected = kmeans_steps(x, edited.means, tol=KMEANS.tol, max_iter=KMEANS.max_iter)
    np.testing.assert_allclose(after.params.means, expected.centres)


def test_an_edit_saved_before_its_figure_arrived_gets_it_when_opened(tmp_path):
    from gmm_studio.session import Session

    session = make_session(ManualRunner())
    session.step()
    session.runner.run_all()
    edited = moved(session.history.shown.params)
    session.show_model(edited, keep_history=True)
    session.save_session(tmp_path / "edit.gmmsession")  # the figure is still being computed
    opened = Session(SyncRunner())
    opened.open_session(tmp_path / "edit.gmmsession")
    assert opened.history.origins[-1] == "edit"
    assert opened.history.shown.log_likelihood == pytest.approx(
        opened.emdata("full").mean_log_likelihood(opened.history.shown.params))
