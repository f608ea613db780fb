"""An edit by hand of the shown state as one history entry, and the figure it is plotted at.

:func:`shown_entry` makes the entry at once (the person can Step from it at once): an 'init'-like
snapshot at the restart and iteration of the state edited, of the same kind — a K-means edit
stays a :class:`~gmm_studio.core.kmeans.KMeansSnapshot`, so Run and Step continue K-means from
the moved centres.  Its figure is NaN until :func:`fill_edit_figures` has computed it on the
runner (an O(N) pass: the mean log-likelihood, or −J/N for K-means centres, what the likelihood
view plots); then the entry is replaced by one with the figure, the shown state follows, and
``history_changed`` redraws the curve through the edit.  Owner thread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from gmm_studio.core.editing import centre_figures, model_figures
from gmm_studio.core.em import EMData, Snapshot, em_steps
from gmm_studio.core.kmeans import KMeansSnapshot
from gmm_studio.core.params import MixtureParams

if TYPE_CHECKING:
    from gmm_studio.session.session import Session

__all__ = ["EDIT_FIGURES_KIND", "fill_edit_figures", "shown_entry"]

#: The runner kind of the figure computation (a newer edit's task covers the older ones).
EDIT_FIGURES_KIND = "edit_figures"

_NAN = float("nan")


def shown_entry(base: Snapshot | None, params: MixtureParams,
                emdata: Callable[[str], EMData]) -> tuple[Snapshot, str]:
    """The history entry showing ``params`` and its origin: a given model ('model', a fresh
    history) when ``base`` is None, else an edit of ``base`` ('edit'), its figure NaN until filled.

    ``emdata(covariance_type)`` gives the session's data for an EM model's diagnostics (moved
    K-means centres keep the cluster sizes of ``base`` until their own are filled in with the
    figure; the weights, a drawing aid of K-means states, stay those of ``base``).
    """
    if base is None:
        return next(em_steps(emdata(params.covariance_type), params, max_iter=0)), "model"
    if isinstance(base, KMeansSnapshot):
        return KMeansSnapshot(base.restart, base.iteration, "init", params, None, _NAN, _NAN,
                              base.diagnostics, False, (), _NAN, None), "edit"
    init = next(em_steps(emdata(params.covariance_type), params, max_iter=0, restart=base.restart,
                         start_iteration=base.iteration))
    return replace(init.without_responsibilities(), log_likelihood=_NAN, lower_bound=_NAN), "edit"


def fill_edit_figures(session: Session) -> None:
    """Compute, on the runner, the figure of every edit in the history still without one."""
    h = session.history
    pending = [e for e, origin in zip(h, h.origins) if origin == "edit" and math.isnan(e.log_likelihood)]
    if not pending:
        return
    x = session.x
    jobs = [(entry, None if isinstance(entry, KMeansSnapshot) else session.emdata(entry.params.covariance_type))
            for entry in pending]

    def work(cancel):
        figures = []  # (value, cluster sizes or None)
        for entry, data in jobs:
            if cancel.is_set():
                return None
            if data is None:  # K-means: the curve plots −J/N, as for every K-means state
                _, objective, counts = centre_figures(x, entry.params.means, responsibilities=False)
                figures.append((-objective / len(x), counts))
            else:
                figures.append((model_figures(data, entry.params, responsibilities=False)[1], None))
        return figures

    session.runner.start(EDIT_FIGURES_KIND, work,
                         on_finished=lambda values: _on_figures(session, pending, values))


def _on_figures(session: Session, pending: list[Snapshot], figures: list | None) -> None:
    if figures is None:
        return
    with session._changing():  # a change of the session like its commands
        _fill(session, pending, figures)


def _fill(session: Session, pending: list[Snapshot], figures: list) -> None:
    n = len(session.x)
    changed = False
    for entry, (value, counts) in zip(pending, figures):
        extra = {}
        if counts is not None:  # moved centres: −J/N, J, and the sizes of their new clusters
            extra = {"objective": -value * n,
                     "diagnostics": replace(entry.diagnostics, effective_counts=counts)}
        filled = replace(entry, log_likelihood=value, lower_bound=value, **extra)
        if session.history.replace(entry, filled):
            session.shown.replaced(entry, filled)
            changed = True
    if changed:
        session._emit(session.history_changed)
