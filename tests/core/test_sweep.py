"""The K sweep: criteria choose the true K, degenerate cells are NA, cancel is prompt."""

from __future__ import annotations

import csv
import math
import threading

import numpy as np
import pytest

from gmm_studio.core import sweep_pool
from gmm_studio.core.em import EMData
from gmm_studio.core.generate import GeneratorSettings, generate
from gmm_studio.core.params import n_parameters
from gmm_studio.core.sweep import (
    CRITERIA,
    CellResult,
    SweepSettings,
    run_sweep,
)


def _blobs(k: int, seed: int, n: int = 600) -> np.ndarray:
    return generate(GeneratorSettings(n_components=k, n_samples=n, separation=7.0,
                                      shape="rotated", seed=seed)).values


def test_bic_picks_true_k_on_well_separated_mixtures():
    hits = []
    for seed in range(10):
        true_k = 2 + seed % 3
        settings = SweepSettings(k_values=range(1, 7), covariance_types=("full",), n_init=2,
                                 seed=seed)
        result = run_sweep(_blobs(true_k, seed), settings, max_workers=1)
        hits.append(result.best("bic").n_components == true_k)
    assert sum(hits) >= 9, hits


def test_training_likelihood_rises_with_k_but_held_out_does_not_keep_rising():
    x = _blobs(3, seed=4, n=800)
    settings = SweepSettings(k_values=range(1, 8), covariance_types=("full",), n_init=3, seed=1)
    result = run_sweep(x, settings, max_workers=1)
    train = np.array([row[1] for row in result.table("train_ll")])
    assert np.all(np.diff(train) > -0.01), train
    held_out = np.array([row[1] for row in result.table("heldout_ll")])
    # The penalised criteria and the held-out likelihood stop at the truth.
    assert result.best("heldout_ll").n_components in (3, 4)
    assert result.best("bic").n_components == 3
    assert held_out[-1] < held_out.max()


def test_criteria_follow_their_definitions_and_spread_covers_best():
    x = _blobs(2, seed=3)
    settings = SweepSettings(k_values=(1, 2, 3), covariance_types=("diag", "tied"), n_init=3)
    result = run_sweep(x, settings, max_workers=1)
    assert result.n_train + result.n_validation == len(x)
    assert result.n_validation == 120
    for cell in result.cells:
        assert cell.ok, cell.reason
        assert len(cell.restarts) == 3
        n = result.n_train
        p = n_parameters(cell.covariance_type, cell.n_components, 2)
        total = cell.value("train_ll") * n
        assert cell.value("bic") == pytest.approx(-2 * total + p * math.log(n))
        assert cell.value("aic") == pytest.approx(-2 * total + 2 * p)
        assert cell.value("icl") >= cell.value("bic") - 1e-9
        for criterion in CRITERIA:
            lo, hi = cell.spread(criterion)
            assert lo - 1e-9 <= cell.value(criterion) <= hi + 1e-9
        # the kept model is the best restart by training likelihood
        assert cell.value("train_ll") == max(r.values["train_ll"] for r in cell.restarts)
        assert cell.params.n_components == cell.n_components
        assert cell.params.covariance_type == cell.covariance_type


def test_held_out_likelihood_is_scored_on_the_held_out_rows_only():
    x = _blobs(2, seed=5)
    settings = SweepSettings(k_values=(2,), covariance_types=("full",), n_init=1, seed=9)
    cell = run_sweep(x, settings, max_workers=1).cells[0]
    rows = np.random.default_rng(9).permutation(len(x))
    val = x[np.sort(rows[:120])]
    assert cell.value("heldout_ll") == pytest.approx(
        EMData(val, "full").mean_log_likelihood(cell.params))


def test_no_validation_split_means_no_held_out_value():
    x = _blobs(2, seed=6)
    settings = SweepSettings(k_values=(1, 2), covariance_types=("spherical",), n_init=1,
                             validation_fraction=0.0)
    result = run_sweep(x, settings, max_workers=1)
    assert result.n_validation == 0 and result.n_train == len(x)
    assert all(math.isnan(c.value("heldout_ll")) for c in result.cells)
    with pytest.raises(ValueError, match="no validation rows"):
        result.best("heldout_ll")
    assert result.best("bic").n_components == 2


def test_degenerate_cell_is_na_with_a_reason_and_the_sweep_goes_on():
    # Four distinct points, each three times: ten components must collapse onto them.
    base = np.array([[0.0, 0.0], [1.0, 0.2], [0.3, 1.5], [2.0, 2.0]])
    x = np.repeat(base, 3, axis=0)
    settings = SweepSettings(k_values=(1, 10, 2), covariance_types=("full", "diag"), n_init=2,
                             validation_fraction=0.0, reg_covar=0.0)
    seen: list[CellResult] = []
    result = run_sweep(x, settings, on_cell=seen.append, max_workers=2)
    assert len(seen) == len(result.cells) == 6
    assert not result.cancelled
    for t in ("full", "diag"):
        assert result.cell(1, t).ok
        bad = result.cell(10, t)
        assert bad.status == "NA"
        assert bad.reason
        assert math.isnan(bad.value("bic"))
    assert result.best("bic").ok
    rows = result.table("bic")
    assert [r[0] for r in rows] == [1, 2, 10]
    assert all(math.isnan(v) for v in rows[2][1:])


def test_on_cell_streams_every_cell_on_the_calling_thread():
    x = _blobs(2, seed=7)
    settings = SweepSettings(k_values=(1, 2, 3), covariance_types=("full", "spherical"), n_init=1)
    threads, cells = set(), []

    def on_cell(cell: CellResult) -> None:
        threads.add(threading.get_ident())
        cells.append(cell)

    result = run_sweep(x, settings, on_cell=on_cell, max_workers=2)
    assert threads == {threading.get_ident()}
    assert {(c.n_components, c.covariance_type) for c in cells} == {
        (c.n_components, c.covariance_type) for c in result.cells}
    assert len(cells) == 6


def test_results_do_not_depend_on_the_number_of_workers():
    x = _blobs(3, seed=8)
    settings = SweepSettings(k_values=(2, 3, 4), covariance_types=("full", "tied"), n_init=2)
    a = run_sweep(x, settings, max_workers=1)
    b = run_sweep(x, settings, max_workers=2)
    for ca, cb in zip(a.cells, b.cells, strict=True):
        assert (ca.n_components, ca.covariance_type) == (cb.n_components, cb.covariance_type)
        assert ca.value("bic") == cb.value("bic")
        np.testing.assert_array_equal(ca.params.means, cb.params.means)


@pytest.mark.parametrize("max_workers", [1, 2])
def test_cancel_returns_promptly_with_what_is_done_and_nothing_left_running(max_workers):
    x = generate(GeneratorSettings(n_components=4, n_samples=20_000, seed=2)).values
    cancel = threading.Event()
    seen: list[CellResult] = []

    def on_cell(cell: CellResult) -> None:
        seen.append(cell)
        cancel.set()

    # tol 1e-12 and 1000 iterations: the 36 cells would run for many minutes; a cancel that
    # did not reach the cells in flight would leave more than one cell per worker done.
    result = run_sweep(x, SweepSettings(tol=1e-12, max_iter=1000), on_cell=on_cell,
                       cancel=cancel, max_workers=max_workers)
    assert result.cancelled
    assert 1 <= len(result.cells) <= max_workers + 1
    assert {id(c) for c in seen} == {id(c) for c in result.cells}
    assert sweep_pool.cells_in_flight() == 0
    # The workers are free at once: the next sweep runs to the end.
    again = run_sweep(x[:2000], SweepSettings(k_values=(1, 2), covariance_types=("full",),
                                              n_init=1), max_workers=max_workers)
    assert not again.cancelled and len(again.cells) == 2


def test_cancel_before_start_fits_nothing():
    cancel = threading.Event()
    cancel.set()
    result = run_sweep(_blobs(2, seed=1), SweepSettings(), cancel=cancel)
    assert result.cancelled and result.cells == ()
    with pytest.raises(ValueError, match="No cell"):
        result.best("bic")


def test_csv_export_is_atomic_and_complete(tmp_path):
    x = _blobs(2, seed=2)
    settings = SweepSettings(k_values=(1, 2), covariance_types=("full", "diag"), n_init=2)
    result = run_sweep(x, settings, max_workers=1)
    path = tmp_path / "sweep.csv"
    path.write_text("old")
    result.to_csv(path)
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert {r["covariance_type"] for r in rows} == {"full", "diag"}
    first = rows[0]
    assert first["status"] == "ok"
    assert float(first["bic"]) == pytest.approx(result.cells[0].value("bic"))
    assert float(first["bic_min"]) <= float(first["bic"]) <= float(first["bic_max"])
    assert [p.name for p in tmp_path.iterdir()] == ["sweep.csv"]


@pytest.mark.parametrize("kwargs, message", [
    ({"k_values": ()}, "k_values"),
    ({"k_values": (0, 1)}, "k_values"),
    ({"covariance_types": ("full", "banana")}, "covariance_type"),
    ({"n_init": 0}, "n_init"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"reg_covar": -1.0}, "reg_covar"),
    ({"max_iter": 0}, "max_iter"),
])
def test_invalid_settings_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SweepSettings(**kwargs)


def test_settings_normalise_k_values():
    assert SweepSettings(k_values=[3, 1, 3, 2]).k_values == (1, 2, 3)
    assert SweepSettings().k_values == tuple(range(1, 10))
    assert SweepSettings().covariance_types == ("full", "tied", "diag", "spherical")


def test_icl_adds_twice_the_entropy_of_the_final_responsibilities():
    from gmm_studio.core.selection import entropy

    x = _blobs(3, seed=11)
    settings = SweepSettings(k_values=(2, 3, 5), covariance_types=("full", "spherical"), n_init=1,
                             validation_fraction=0.0)
    result = run_sweep(x, settings, max_workers=1)
    for cell in result.cells:
        resp = EMData(x, cell.covariance_type).responsibilities(cell.params)
        assert cell.value("icl") == pytest.approx(cell.value("bic") + 2 * entropy(resp), rel=1e-9)


@pytest.mark.parametrize("init_subsample", [2000, None])
def test_subsampled_kmeans_initialisation_finds_the_same_model(init_subsample):
    x = generate(GeneratorSettings(n_components=4, n_samples=5000, separation=6.0, seed=12)).values
    settings = SweepSettings(k_values=range(2, 7), covariance_types=("full",), n_init=2,
                             init_subsample=init_subsample)
    result = run_sweep(x, settings, max_workers=1)
    assert result.best("bic").n_components == 4
    assert result.best("heldout_ll").n_components in (4, 5, 6)


def test_a_collapsed_restart_does_not_spoil_a_cell_with_clean_ones():
    rng = np.random.default_rng(1)
    rng.normal(size=(300, 2))
    x = np.vstack([rng.normal(size=(400, 2)), np.tile([[5.0, 5.0]], (8, 1)),
                   rng.normal(size=(400, 2)) + [0, 6]])  # 8 repeated points invite a collapse
    settings = SweepSettings(k_values=(4,), covariance_types=("full",), n_init=5,
                             validation_fraction=0.0)
    cell = run_sweep(x, settings, max_workers=1).cells[0]
    assert any(r.degeneracy for r in cell.restarts), "the data should make one restart collapse"
    assert any(r.clean for r in cell.restarts)
    assert cell.ok and cell.reason == ""
    best = max((r for r in cell.restarts if r.clean), key=lambda r: r.values["train_ll"])
    assert cell.value("train_ll") == best.values["train_ll"]
