"""Each demo, loaded and run through the session as the window does, shows what its text says."""

import numpy as np
import pytest

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.demos import build_demo
from gmm_studio.session import Session, SyncRunner


def run_demo(key, **changes):
    """Load demo ``key`` as Help › Demos does, press Run once; the finished session."""
    demo = build_demo(key)
    settings = demo.settings.replace(algorithm="kmeans" if demo.algorithm == "kmeans" else "em",
                                     **changes)
    session = Session(SyncRunner(), settings)
    session.set_dataset(dataset_from_array(demo.values, demo.columns, labels=demo.labels),
                        demo.truth, truth_labels=demo.labels)
    session.set_settings(settings)
    if demo.initial is not None:
        session.show_model(demo.initial)
    session.run()
    return session


def e_curve(session):
    return np.array([s.log_likelihood for s in session.history if s.half_step == "E"])


def test_elongated_demo_finds_each_cluster_and_circles_do_not():
    full = run_demo("elongated")
    assert full.shown.comparison.truth_labels.ari >= 0.95
    assert not full.shown.events
    # the text's invitation: spherical components cannot follow the tilted clusters
    spherical = run_demo("elongated", covariance_type="spherical")
    assert spherical.shown.comparison.truth_labels.ari < 0.9


def test_well_separated_demo_takes_the_few_iterations_it_promises():
    session = run_demo("well_separated")
    assert "three iterations" in build_demo("well_separated").explanation
    assert session.history[-1].iteration == 3 and session.history[-1].converged
    assert session.shown.comparison.truth_labels.ari == pytest.approx(1.0)
    gamma = session.shown.responsibilities
    assert np.mean(gamma.max(axis=1) > 0.99) > 0.95  # "almost every responsibility is 0 or 1"


def test_singularity_demo_shows_l_rising_steeply_until_the_diagnosis():
    session = run_demo("singularity")
    curve = e_curve(session)
    rises = np.diff(curve)
    assert len(curve) >= 6 and np.all(rises > 0)
    # growing without bound: each of the last three rises is larger than the one before, and
    # they add up to far more than the ordinary fitting before them
    assert np.all(np.diff(rises[-3:]) > 0)
    assert curve[-1] - curve[-4] > 0.5 > curve[-4] - curve[1]
    last = session.shown.events[-1]
    assert last.fatal and last.kind == "singular" and "reg_covar" in last.message


def test_overlapping_demo_takes_many_small_steps_and_shares_points():
    session = run_demo("overlapping")
    rises = np.diff(e_curve(session))
    assert len(rises) >= 20 and np.all(rises >= 0)
    assert np.sum(rises < 0.01) >= 10  # the creep the text asks to watch
    assert session.shown.comparison.truth_labels.ari > 0.9
    assert np.mean(session.shown.responsibilities.max(axis=1) < 0.9) > 0.05  # blended colours
