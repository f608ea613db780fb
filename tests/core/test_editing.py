"""Editing a component by hand: handle geometry and the edit of the full model."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gmm_studio.core.editing import covariance_from_axes, drag_axis, edit_component, principal_axes
from gmm_studio.core.geometry import Projection
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.3 * np.eye(d)


def _params(kind, k, d, seed=0):
    rng = np.random.default_rng(seed)
    full = np.stack([_spd(rng, d) for _ in range(k)])
    covs = {"full": full, "tied": full[0], "diag": np.stack([np.diag(c) for c in full]),
            "spherical": np.array([np.trace(c) / d for c in full])}[kind]
    return MixtureParams(kind, np.full(k, 1.0 / k), rng.normal(size=(k, d)), covs)


def _is_spd(c):
    return np.allclose(c, c.T) and np.linalg.eigvalsh(c).min() > 0


# ---------------------------------------------------------------------------------- geometry
def test_principal_axes_round_trip_and_order():
    cov = np.array([[4.0, 1.0], [1.0, 2.0]])
    lengths, directions = principal_axes(cov)
    assert lengths[0] >= lengths[1] > 0
    assert np.allclose(directions @ directions.T, np.eye(2))
    assert np.allclose(covariance_from_axes(lengths, directions), cov)


def test_dragging_an_axis_of_a_circle_to_a_diagonal_point_stretches_and_turns_it():
    cov = drag_axis([0.0, 0.0], np.eye(2), [1.0, 0.0], [3.0, 3.0], radius=1.0)
    lengths, directions = principal_axes(cov)
    assert np.allclose(lengths, [np.hypot(3, 3), 1.0])
    assert np.allclose(directions[0], [2**-0.5, 2**-0.5])


def test_the_handle_radius_divides_the_distance():
    cov = drag_axis([1.0, 1.0], np.diag([4.0, 1.0]), [5.0, 1.0], [1.0 + 6.0, 1.0], radius=2.0)
    assert np.allclose(cov, np.diag([9.0, 1.0]))


def test_the_short_axis_handle_drags_the_short_axis():
    cov = drag_axis([0.0, 0.0], np.diag([4.0, 1.0]), [0.0, -1.0], [0.0, -1.5], radius=1.0)
    assert np.allclose(cov, np.diag([4.0, 2.25]))


def test_diag_handles_do_not_rotate():
    start = np.diag([4.0, 1.0])
    cov = drag_axis([0.0, 0.0], start, [-2.0, 0.0], [3.0, 5.0], radius=1.0, covariance_type="diag")
    assert np.allclose(cov, np.diag([9.0, 1.0]))  # only the x reach of the pointer counts


def test_spherical_handles_keep_a_circle():
    cov = drag_axis([0.0, 0.0], 2.0 * np.eye(2), [0.0, 1.4], [0.0, 3.0], radius=1.0, covariance_type="spherical")
    assert np.allclose(cov, 9.0 * np.eye(2))


# ---------------------------------------------------------------------------------- edits
def test_a_2d_full_edit_sets_the_component_and_nothing_else():
    params = _params("full", 3, 2)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    edited = edit_component(params, 1, [5.0, -1.0], cov)
    assert np.allclose(edited.means[1], [5.0, -1.0])
    assert np.allclose(edited.covariances[1], cov)
    for j in (0, 2):
        assert np.array_equal(edited.means[j], params.means[j])
        assert np.array_equal(edited.covariances[j], params.covariances[j])
    assert np.array_equal(edited.weights, params.weights)


def test_a_3d_edit_through_two_columns_matches_the_hand_computed_model():
    # Σ's plane block is I, so T = diag(2, 1), M = diag(2, 1, 1) and Σ' = M Σ Mᵀ.
    sigma = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.0], [0.5, 0.0, 1.0]])
    params = MixtureParams("full", np.array([1.0]), np.array([[1.0, 2.0, 3.0]]), sigma[None])
    edited = edit_component(params, 0, [5.0, 6.0], np.diag([4.0, 1.0]), Projection.columns(3, 0, 1))
    assert np.allclose(edited.means[0], [5.0, 6.0, 3.0])
    assert np.allclose(edited.covariances[0], [[4.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0]])


def test_tied_edits_change_every_component_shape():
    params = _params("tied", 3, 2)
    cov = np.diag([3.0, 0.5])
    edited = edit_component(params, 0, params.means[0], cov)
    assert np.allclose(edited.covariances, cov)
    assert np.allclose(edited.full_covariances(), cov)  # all three share it


def test_diag_and_spherical_keep_their_shape_of_parameters():
    diag = edit_component(_params("diag", 2, 2), 0, [0.0, 0.0], np.diag([5.0, 0.2]))
    assert diag.covariances.shape == (2, 2) and np.allclose(diag.covariances[0], [5.0, 0.2])
    sph = edit_component(_params("spherical", 2, 2), 1, [0.0, 0.0], np.diag([4.0, 1.0]))
    assert sph.covariances.shape == (2,) and np.isclose(sph.covariances[1], 2.0)  # √(4·1)


def test_a_1d_edit_sets_mean_and_variance():
    params = MixtureParams("full", np.array([0.5, 0.5]), np.array([[0.0], [3.0]]), np.array([[[1.0]], [[2.0]]]))
    edited = edit_component(params, 1, [4.0], [[0.25]])
    assert np.allclose(edited.means[:, 0], [0.0, 4.0])
    assert np.allclose(edited.covariances[:, 0, 0], [1.0, 0.25])


def test_a_handle_dragged_onto_the_mean_flattens_without_breaking_the_model():
    params = _params("full", 1, 2)
    edited = edit_component(params, 0, [0.0, 0.0], np.diag([1.0, 0.0]))
    assert _is_spd(edited.covariances[0])
    edited.precisions_cholesky()  # usable by EM


@pytest.mark.parametrize("bad", [
    dict(k=5, mean=[0.0, 0.0], cov=np.eye(2)),
    dict(k=0, mean=[0.0, np.nan], cov=np.eye(2)),
    dict(k=0, mean=[0.0, 0.0, 0.0], cov=np.eye(3)),
    dict(k=0, mean=[0.0, 0.0], cov=np.zeros((2, 2))),
])
def test_bad_edits_are_refused_with_a_message(bad):
    with pytest.raises(ValueError, match=r"\w+ \w+"):
        edit_component(_params("full", 2, 2), **bad)


def test_a_3d_model_needs_the_projection():
    with pytest.raises(ValueError, match="projection"):
        edit_component(_params("full", 2, 3), 0, [0.0, 0.0], np.eye(2))


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(COVARIANCE_TYPES), d=st.integers(2, 5), seed=st.integers(0, 2**31),
       scale=st.floats(1e-3, 1e3), angle=st.floats(0, np.pi), stretch=st.floats(1e-3, 1e3))
def test_random_edits_keep_every_covariance_spd_and_the_plane_exact(kind, d, seed, scale, angle, stretch):
    rng = np.random.default_rng(seed)
    params = _params(kind, 3, d, seed)
    projection = Projection.pca(rng.normal(size=(50, d)) * rng.uniform(0.5, 2, d)) if d > 2 else None
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    cov2 = scale * rot @ np.diag([stretch, 1.0]) @ rot.T
    mean2 = rng.normal(size=2) * 10
    edited = edit_component(params, 1, mean2, cov2, projection)
    for sigma in edited.full_covariances():
        assert _is_spd(sigma)
    edited.precisions_cholesky()
    matrix = np.eye(2) if projection is None else projection.matrix
    offset = np.zeros(d) if projection is None else projection.offset
    assert np.allclose(matrix @ (edited.means[1] - offset), mean2)
    if kind in ("full", "tied") and stretch < 1e5:
        plane = matrix @ edited.full_covariances()[1] @ matrix.T
        assert np.allclose(plane, cov2, rtol=1e-6, atol=1e-9 * scale * max(stretch, 1.0))


def test_a_round_handle_dropped_on_the_mean_keeps_the_shortest_length():
    cov = drag_axis([0.0, 0.0], np.eye(2), [1.0, 0.0], [0.0, 0.0], radius=1.0,
                    covariance_type="spherical", min_length=0.01)
    assert np.allclose(cov, 1e-4 * np.eye(2))
    edited = edit_component(_params("spherical", 1, 2), 0, [0.0, 0.0], cov)
    assert edited.covariances[0] > 0
