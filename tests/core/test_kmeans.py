"""Lloyd's K-means: the same partition and centres as scikit-learn, and the snapshots' contract."""

import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans

from gmm_studio.core.em import Snapshot
from gmm_studio.core.export import write_history_csv
from gmm_studio.core.kmeans import (
    EM_HALF_STEP,
    initial_centres,
    kmeans_fit,
    kmeans_steps,
)


def blobs(n=600, d=2, k=4, seed=0, spread=1.0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    return centres[rng.integers(k, size=n)] + spread * rng.normal(size=(n, d))


@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_partition_and_centres_as_scikit_learn(d, seed):
    x = blobs(d=d, seed=seed, spread=1.5)
    rng = np.random.default_rng(seed)
    start = x[rng.choice(len(x), 4, replace=False)]
    ours = list(kmeans_steps(x, start, tol=0.0))
    theirs = KMeans(4, init=start, n_init=1, algorithm="lloyd", tol=0.0, max_iter=300).fit(x)
    final = ours[-1]
    assert final.half_step == "update" and final.converged
    assert not final.events  # no cluster emptied, so the comparison is fair
    np.testing.assert_array_equal(final.labels, theirs.labels_)
    np.testing.assert_allclose(final.centres, theirs.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert final.objective == pytest.approx(theirs.inertia_, rel=1e-10)
    assert final.iteration == theirs.n_iter_


def test_kmeans_fit_matches_scikit_learn_with_its_tolerance():
    x = blobs(seed=3, spread=1.5)
    start = x[:4].copy()
    ours = kmeans_fit(x, 4, init=start)
    theirs = KMeans(4, init=start, n_init=1, algorithm="lloyd").fit(x)
    np.testing.assert_array_equal(ours.labels, theirs.labels_)
    np.testing.assert_allclose(ours.centres, theirs.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-10)
    np.testing.assert_array_equal(ours.responsibilities().argmax(axis=1), ours.labels)


def test_snapshots_carry_what_the_views_and_the_session_read():
    x = blobs()
    snapshots = list(kmeans_steps(x, x[:4]))
    assert all(isinstance(s, Snapshot) for s in snapshots)
    kinds = [s.half_step for s in snapshots]
    assert kinds[0] == "init" and kinds[1::2] == ["assign"] * (len(kinds) // 2)
    assert kinds[2::2] == ["update"] * (len(kinds) // 2)
    assert {EM_HALF_STEP[k] for k in kinds} == {"init", "E", "M"}
    init = snapshots[0]
    assert init.responsibilities is None and init.labels is None and init.log_likelihood == -np.inf
    for s in snapshots[1:]:
        r = s.responsibilities
        assert r.shape == (len(x), 4) and set(np.unique(r)) <= {0.0, 1.0}
        np.testing.assert_array_equal(r.sum(axis=1), 1.0)
        np.testing.assert_array_equal(r.argmax(axis=1), s.labels)
        assert s.log_likelihood == pytest.approx(-s.objective / len(x))
        assert s.params.covariance_type == "spherical"
        assert s.params.weights.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(s.params.weights, np.bincount(s.labels, minlength=4) / len(x))
        assert np.all(s.params.covariances > 0)
        with pytest.raises(ValueError):
            r[0, 0] = 2.0  # read-only: safe to hand across threads
    light = snapshots[-1].without_responsibilities()
    assert light.responsibilities is None and light.labels is None
    assert light.objective == snapshots[-1].objective


def test_updates_move_centres_to_the_means_of_their_points():
    x = blobs(seed=5)
    snapshots = list(kmeans_steps(x, x[:4], max_iter=3))
    for assign, update in zip(snapshots[1::2], snapshots[2::2]):
        for j in range(4):
            np.testing.assert_allclose(update.centres[j], x[assign.labels == j].mean(axis=0))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31), st.integers(1, 4), st.integers(1, 6), st.integers(10, 200))
def test_the_objective_never_increases(seed, d, k, n):
    x = blobs(n=n, d=d, k=3, seed=seed)
    rng = np.random.default_rng(seed)
    start = initial_centres(x, min(k, n), "random_from_data", rng)
    objectives = [s.objective for s in kmeans_steps(x, start, max_iter=20)][1:]
    assert all(b <= a * (1 + 1e-12) + 1e-12 for a, b in zip(objectives, objectives[1:]))


def test_stop_event_ends_between_half_steps():
    x = blobs()
    stop = threading.Event()
    seen = []
    for s in kmeans_steps(x, x[:4], tol=0.0, stop=stop):
        seen.append(s.half_step)
        if s.half_step == "assign":
            stop.set()
    assert seen == ["init", "assign"]


def test_max_iter_bounds_the_iterations():
    x = blobs(spread=3.0)
    snapshots = list(kmeans_steps(x, x[:4], max_iter=2, tol=0.0))
    assert snapshots[-1].iteration == 2 and len(snapshots) == 5


def test_an_empty_cluster_is_diagnosed_and_keeps_its_centre():
    x = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    far = [100.0, 100.0]
    snapshots = list(kmeans_steps(x, np.array([[0.0, 0.0], [10.0, 10.0], far])))
    final = snapshots[-1]
    assert [e.kind for e in final.events] == ["empty"] and final.events[0].component == 2
    np.testing.assert_array_equal(final.centres[2], far)
    assert final.params.weights[2] == 0.0


def test_bad_centres_get_clear_messages():
    x = blobs()
    with pytest.raises(ValueError, match="shape"):
        list(kmeans_steps(x, np.zeros((3, 5))))
    with pytest.raises(ValueError, match="NaN"):
        list(kmeans_steps(x, np.full((3, 2), np.nan)))


def test_history_export_takes_kmeans_snapshots(tmp_path):
    x = blobs()
    result = kmeans_fit(x, 3, n_init=2, random_state=1)
    path = tmp_path / "history.csv"
    write_history_csv(path, result.restarts[0])
    lines = path.read_text().splitlines()
    assert lines[1].split(",")[2] == "init" and lines[2].split(",")[2] == "assign"


def test_n_init_keeps_the_lowest_objective():
    x = blobs(k=6, seed=7, spread=2.0)
    best = kmeans_fit(x, 6, n_init=5, random_state=3)
    singles = [kmeans_fit(x, 6, init=s[0].centres).inertia for s in best.restarts]
    assert best.inertia == pytest.approx(min(singles))


def test_cli_fit_with_kmeans_writes_centres_and_assignments(tmp_path, capsys):
    from gmm_studio.cli import main
    from gmm_studio.core.export import load_model_json

    x = blobs(n=300, k=3, seed=4)
    data = tmp_path / "data.csv"
    data.write_text("a,b\n" + "\n".join(f"{p},{q}" for p, q in x))
    model, points = tmp_path / "model.json", tmp_path / "points.csv"
    status = main(["fit", str(data), "-k", "3", "--algorithm", "kmeans", "--out", str(model),
                   "--assignments", str(points)])
    out = capsys.readouterr().out
    assert status == 0 and "K-means" in out and "within-cluster sum of squares" in out
    expected = kmeans_fit(x, 3, random_state=0, tol=1e-3, max_iter=100)  # the CLI defaults
    loaded = load_model_json(model)
    np.testing.assert_allclose(loaded.params.means, expected.centres)
    assert loaded.metadata["settings"]["algorithm"] == "kmeans"
    rows = points.read_text().splitlines()
    assert len(rows) == 301
    header = rows[0].split(",")
    components = [int(r.split(",")[header.index("component")]) - 1 for r in rows[1:]]
    np.testing.assert_array_equal(components, expected.labels)


def test_comparison_without_labels_has_no_scores():
    from gmm_studio.core.kmeans import compare_with_em
    from gmm_studio.core.params import MixtureParams

    x = blobs(k=2, seed=9)
    start = MixtureParams("spherical", [0.5, 0.5], x[:2], [1.0, 1.0])
    result = compare_with_em(x, start)
    assert result.kmeans_ari is None and result.em_ari is None
    assert result.kmeans.converged and result.em.params.covariance_type == "spherical"
