"""Fuzzing the model file loader: edits of a valid exported model load or are refused cleanly.

Every edit of a real export — keys deleted, values of other types, huge, NaN,
negative or non-finite numbers, arrays of the wrong shape, deep nesting, other
versions — must either load as a valid mixture or raise the documented
:class:`~gmm_studio.core.export.ModelFileError` (a ``ValueError``, which the
window shows in a dialog).  No other exception may escape.
"""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_studio.core.export import LoadedModel, ModelFileError, load_model_json, model_to_json
from gmm_studio.core.params import COVARIANCE_TYPES, MixtureParams


def _model(covariance_type: str, standardized: bool) -> dict:
    rng = np.random.default_rng(len(covariance_type))
    k, d = 2, 3
    means = rng.normal(0.0, 3.0, (k, d))
    a = rng.normal(0.0, 1.0, (k, d, d))
    full = a @ np.swapaxes(a, 1, 2) + np.eye(d)
    covariances = {
        "full": full,
        "tied": full[0],
        "diag": np.diagonal(full, axis1=1, axis2=2).copy(),
        "spherical": np.array([1.5, 0.5]),
    }[covariance_type]
    params = MixtureParams(covariance_type, [0.3, 0.7], means, covariances)
    preprocessing = {"center": [1.0, 2.0, 3.0], "scale": [0.5, 1.0, 2.0]} if standardized else None
    text = model_to_json(params, columns=["a", "b", "c"], log_likelihood=-3.5, n_iter=7,
                         converged=True, criteria={"bic": 10.0}, n_samples=100,
                         settings={"seed": 1, "note": "fuzz"}, preprocessing=preprocessing)
    return json.loads(text)


MODELS = [_model(t, s) for t in COVARIANCE_TYPES for s in (False, True)]


def _paths(doc):
    """Paths to the values inside ``doc`` (the root included), none below depth 50."""
    paths, stack = [], [((), doc)]
    while stack:
        prefix, value = stack.pop()
        paths.append(prefix)
        if len(prefix) < 50 and isinstance(value, (dict, list)):
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((prefix + (key,), item) for key, item in items)
    return paths


def _get(doc, path):
    for step in path:
        doc = doc[step]
    return doc


def _set(doc, path, value):
    if not path:
        return value
    _get(doc, path[:-1])[path[-1]] = value
    return doc


NUMBERS = st.one_of(
    st.integers(-3, 3),
    st.integers(),
    st.sampled_from([10**20, -(10**20), 10**400, -(10**400), 2**63, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1e-300]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=8),
                    st.sampled_from(["full", "tied", "diag", "spherical", "gmm-studio-model"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12)


@st.composite
def edited_models(draw):
    doc = json.loads(json.dumps(draw(st.sampled_from(MODELS))))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        target = _get(doc, path)
        edit = draw(st.sampled_from(
            ["delete", "replace", "number", "scale", "shorten", "lengthen", "nest", "version"]))
        if edit == "delete" and path:
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
        elif edit == "replace":
            doc = _set(doc, path, draw(VALUES))
        elif edit == "number":
            doc = _set(doc, path, draw(NUMBERS))
        elif edit == "scale" and isinstance(target, (int, float)) and not isinstance(target, bool):
            factor = draw(st.sampled_from([-1, 0, 1e-300, 1e300, 1 + 1e-9]))
            try:
                doc = _set(doc, path, target * factor)
            except OverflowError:  # an int beyond any float (an earlier edit made it): keep it
                pass
        elif edit == "shorten" and isinstance(target, list) and target:
            target.pop(draw(st.integers(0, len(target) - 1)))
        elif edit == "lengthen" and isinstance(target, list):
            target.append(target[0] if target else draw(NUMBERS))
        elif edit == "nest":
            depth = draw(st.sampled_from([1, 2, 5, 40, 5000]))
            for _ in range(depth):
                target = [target]
            doc = _set(doc, path, target)
        elif edit == "version" and isinstance(doc, dict):
            doc["version"] = draw(st.sampled_from([0, 2, 1.0, True, "1", None, 10**400]))
    return doc


def _text(doc) -> str:
    try:
        return json.dumps(doc)  # NaN and Infinity become the tokens json.loads reads back
    except RecursionError:  # deeper than json.dumps goes: write the nesting by hand
        return "[" * 100_000 + "]" * 100_000


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=edited_models())
def test_edited_model_loads_or_is_refused_cleanly(doc):
    text = _text(doc)
    try:
        loaded = load_model_json(text)
    except ModelFileError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(loaded, LoadedModel)
    params = loaded.params
    assert math.isclose(params.weights.sum(), 1.0, abs_tol=1e-6) and np.all(params.weights >= 0)
    assert np.all(np.isfinite(params.means)) and np.all(np.isfinite(params.covariances))
    assert np.all(np.isfinite(params.precisions_cholesky()))  # positive definite
    assert len(loaded.columns) == params.n_features
    # What loads also saves and loads back to the same parameters.
    again = load_model_json(model_to_json(params, columns=loaded.columns))
    np.testing.assert_array_equal(again.params.means, params.means)
    np.testing.assert_array_equal(again.params.covariances, params.covariances)


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_arbitrary_bytes_are_refused_cleanly(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "model.json"
    path.write_bytes(data)
    try:
        load_model_json(path)
    except ModelFileError:
        pass
