"""Session files: carry on exactly where one was; damaged or newer files change nothing."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from app_helpers import SETTINGS, Journal, make_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_studio.core.dataio import ImportOptions
from gmm_studio.core.export import ExportError
from gmm_studio.session import ManualRunner, RunState, Session, SessionFileError, SyncRunner


def fitted_and_scrubbed():
    session = make_session(SyncRunner(), settings=SETTINGS.replace(n_init=2, init_params="random_from_data"))
    session.import_options = None
    session.run()
    session.scrub(5)
    session.select(1)
    session.set_delay(0.125)
    return session


def same_session(a: Session, b: Session) -> None:
    assert a.state is b.state and a.history.cursor == b.history.cursor
    assert a.history.origins == b.history.origins
    assert [(s.restart, s.iteration, s.half_step, s.converged) for s in a.history] == \
        [(s.restart, s.iteration, s.half_step, s.converged) for s in b.history]
    np.testing.assert_allclose([s.log_likelihood for s in a.history],
                               [s.log_likelihood for s in b.history], rtol=0, atol=1e-12)
    np.testing.assert_allclose([s.lower_bound for s in a.history],
                               [s.lower_bound for s in b.history], rtol=0, atol=1e-12)
    for x, y in zip(a.history, b.history):
        np.testing.assert_array_equal(x.params.covariances, y.params.covariances)
        assert x.events == y.events
    assert a.settings == b.settings and a.selected == b.selected and a.delay == b.delay
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.dataset.labels, b.dataset.labels)
    np.testing.assert_array_equal(a.truth.means, b.truth.means)
    np.testing.assert_array_equal(a.truth_labels, b.truth_labels)
    np.testing.assert_array_equal(a.projection.matrix, b.projection.matrix)
    np.testing.assert_array_equal(a.placed_means, b.placed_means)
    np.testing.assert_allclose(a.shown.responsibilities, b.shown.responsibilities, rtol=0, atol=1e-12)
    assert a.shown.comparison == b.shown.comparison


def test_round_trip_keeps_history_cursor_and_everything_shown(tmp_path):
    session = fitted_and_scrubbed()
    path = tmp_path / "work.gmmsession"
    session.save_session(path)
    opened = Session(SyncRunner())
    opened.open_session(path)
    same_session(session, opened)
    assert opened.shown.snapshot.iteration == session.history[5].iteration
    # carrying on gives what carrying on in the original gives
    session.run()
    opened.run()
    same_session(session, opened)


def test_a_paused_fit_opens_paused_and_resumes_as_if_never_saved(tmp_path):
    session = make_session()
    session.run()
    for _ in range(3):
        session.runner.advance("fit")
    session.save_session(tmp_path / "running.gmmsession")  # saved while running: opens paused
    opened = Session(ManualRunner())
    opened.open_session(tmp_path / "running.gmmsession")
    opened.runner.run_all()
    assert opened.state is RunState.PAUSED
    opened.resume()
    opened.runner.run_all()
    straight = make_session(SyncRunner())
    straight.run()
    assert [s.log_likelihood for s in opened.history] == [s.log_likelihood for s in straight.history]


def test_import_choices_and_placed_means_survive(tmp_path):
    session = make_session(SyncRunner())
    session.import_options = ImportOptions(columns=("x", "y"), label_column="label", standardize=True)
    session.update_settings(init_params="click")
    session.place_mean((1.0, 2.0))
    session.save_session(tmp_path / "s.gmmsession")
    opened = Session(SyncRunner())
    opened.open_session(tmp_path / "s.gmmsession")
    assert opened.import_options == session.import_options
    np.testing.assert_array_equal(opened.placed_means, [[1.0, 2.0]])
    assert opened.can("place_mean") and opened.state is RunState.IDLE


def test_saving_into_a_missing_folder_says_so_and_changes_nothing(tmp_path):
    session = fitted_and_scrubbed()
    with pytest.raises(ExportError, match="does not exist"):
        session.save_session(tmp_path / "nowhere" / "s.gmmsession")
    assert session.history.cursor == 5


def test_nothing_to_save_without_data(tmp_path):
    with pytest.raises(ValueError, match="open or generate data first"):
        Session(SyncRunner()).save_session(tmp_path / "s.gmmsession")


# ------------------------------------------------------------------ damaged files


def rewrite(data: bytes, change) -> bytes:
    """The archive with its manifest passed through ``change`` (and members kept)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "manifest.json":
                payload = json.dumps(change(json.loads(payload))).encode()
            if payload is not None:
                dst.writestr(item.filename, payload)
    return out.getvalue()


def drop_member(data: bytes, name: str) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != name:
                dst.writestr(item.filename, src.read(item.filename))
    return out.getvalue()


@pytest.fixture(scope="module")
def good_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("good") / "good.gmmsession"
    fitted_and_scrubbed().save_session(path)
    return path.read_bytes()


def _newer(m):
    m["version"] = 2
    return m


def _cursor_out(m):
    m["cursor"] = 999
    return m


def _not_ours(m):
    m["format"] = "something-else"
    return m


def _bad_state(m):
    m["state"] = "dancing"
    return m


BAD = {
    "truncated": (lambda b: b[: len(b) // 2], "damaged or truncated"),
    "empty": (lambda b: b"", "not a GMM Studio session file"),
    "text": (lambda b: b"x,y\n1,2\n", "not a GMM Studio session file"),
    "newer": (lambda b: rewrite(b, _newer), "saved by a newer GMM Studio .session format 2; this one "
              "reads up to 1.: update GMM Studio to open it"),
    "not ours": (lambda b: rewrite(b, _not_ours), "is not a GMM Studio session file"),
    "no manifest": (lambda b: drop_member(b, "manifest.json"), "has no manifest.json"),
    "missing array": (lambda b: drop_member(b, "history/3/means.npy"), "'history/3/means' is missing"),
    "cursor outside": (lambda b: rewrite(b, _cursor_out), "scrub position is outside the history"),
    "unknown state": (lambda b: rewrite(b, _bad_state), "damaged"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_damaged_or_newer_file_says_what_is_wrong_and_changes_nothing(case, good_bytes, tmp_path):
    damage, message = BAD[case]
    path = tmp_path / "bad.gmmsession"
    path.write_bytes(damage(good_bytes))
    original = path.read_bytes()
    session = fitted_and_scrubbed()
    before = fitted_and_scrubbed()
    journal = Journal(session)
    with pytest.raises(SessionFileError, match=message) as error:
        session.open_session(path)
    assert "bad.gmmsession" in str(error.value)
    assert isinstance(error.value, ValueError)
    assert journal.events == []
    same_session(session, before)
    assert path.read_bytes() == original  # the file is never changed


def test_a_missing_file_is_a_session_file_error(tmp_path):
    with pytest.raises(SessionFileError, match="Cannot read nothing.gmmsession"):
        Session(SyncRunner()).open_session(tmp_path / "nothing.gmmsession")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_flipped_byte_either_opens_or_is_a_clear_error(good_bytes, tmp_path, data):
    damaged = bytearray(good_bytes)
    # Positions drawn independently of the file's length, so an example saved in hypothesis'
    # database replays the same draws after the file format grows or shrinks.
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, 2**31)) % len(damaged)] ^= data.draw(st.integers(1, 255))
    path = tmp_path / "fuzz.gmmsession"
    path.write_bytes(bytes(damaged))
    session = Session(SyncRunner())
    try:
        session.open_session(path)
    except SessionFileError as exc:
        assert "fuzz.gmmsession" in str(exc)
        assert session.dataset is None
