"""Helpers for the session-layer tests: small seeded data and sessions in every state.

No Qt, no display: the session is driven through a ManualRunner (one yield at a time) or a
SyncRunner (inline).
"""

from __future__ import annotations

import numpy as np

from gmm_studio.core.dataio import dataset_from_array
from gmm_studio.core.generate import GeneratorSettings, generate
from gmm_studio.core.settings import FitSettings
from gmm_studio.session import ManualRunner, Session, SyncRunner

SIGNALS = ("state_changed", "dataset_changed", "settings_changed", "projection_changed",
           "history_changed", "snapshot_added", "shown_changed", "responsibilities_changed",
           "comparison_changed", "events_changed", "placed_changed", "selection_changed",
           "fit_ended")


class Journal:
    """Every signal a session emits, in order: ``[(name, payload), ...]``."""

    def __init__(self, session: Session):
        self.events: list[tuple[str, object]] = []
        for name in SIGNALS:
            getattr(session, name).connect(lambda *args, n=name: self.events.append(
                (n, args[0] if args else None)))

    def of(self, name: str) -> list:
        return [payload for n, payload in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


def blobs(n_samples: int = 240, seed: int = 3):
    """Three well separated 2-D Gaussian blobs with their truth and labels."""
    return generate(GeneratorSettings(n_components=3, n_samples=n_samples, seed=seed, separation=5.0))


def singular_data():
    """Two blobs and one far, lone point: a component placed on it collapses onto it."""
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal((0, 0), 1, (60, 2)), rng.normal((8, 0), 1, (60, 2)), [[40.0, 40.0]]])
    return dataset_from_array(x, columns=("x", "y"))


SETTINGS = FitSettings(n_components=3, init_params="kmeans", seed=1, max_iter=50)


def make_session(runner=None, data=None, settings: FitSettings = SETTINGS) -> Session:
    data = blobs() if data is None else data
    session = Session(runner if runner is not None else ManualRunner(), settings)
    dataset = dataset_from_array(data.values, columns=("x", "y"), labels=data.labels)
    session.set_dataset(dataset, truth=data.truth, truth_labels=data.labels)
    return session


def collapsed_session(runner=None, reg_covar: float = 1e-6) -> Session:
    """A finished fit whose third component sits on the lone point (a 'collapsed' event)."""
    session = Session(runner if runner is not None else SyncRunner(),
                      FitSettings(n_components=3, init_params="click", reg_covar=reg_covar, max_iter=5))
    session.set_dataset(singular_data())
    for xy in ((0.0, 0.0), (8.0, 0.0), (40.0, 40.0)):
        session.place_mean(xy)
    session.run()
    if isinstance(session.runner, ManualRunner):
        session.runner.run_all()
    return session


def in_state(name: str) -> Session:
    """A session (ManualRunner) brought into the named situation by public commands only."""
    if name == "no data":
        return Session(ManualRunner(), SETTINGS)
    if name in ("collapsed", "singular"):
        session = collapsed_session(ManualRunner(), reg_covar=1e-6 if name == "collapsed" else 0.0)
        assert [e.kind for e in session.shown.events] == [name]
        return session
    session = make_session()
    runner = session.runner
    if name == "idle":
        return session
    if name == "idle with model":
        session.show_model(blobs().truth)
        runner.run_all()
        return session
    if name == "idle with placed means":
        session.update_settings(init_params="click")
        session.place_mean((0.0, 0.0))
        return session
    if name == "stepping":
        session.step()
        return session
    session.run()
    if name == "running":
        runner.advance()
        runner.advance()
        return session
    if name == "paused":
        for _ in range(4):
            runner.advance("fit")
        session.pause()
        runner.run_all()
        return session
    if name == "finished":
        runner.run_all()
        return session
    if name == "scrubbed":
        runner.run_all()
        session.scrub(3)
        runner.run_all()
        return session
    if name == "failed":
        runner.advance("fit")
        runner.fail("fit", MemoryError("out of memory"))
        runner.run_all()
        return session
    raise ValueError(name)


STATES = ("no data", "idle", "idle with model", "idle with placed means", "stepping", "running",
          "paused", "finished", "scrubbed", "failed", "collapsed", "singular")
