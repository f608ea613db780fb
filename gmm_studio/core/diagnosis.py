"""What went wrong with a mixture's components, said once: one sentence per kind of problem.

A fit can leave several components degenerate at once; each :class:`~gmm_studio.core.em.DegeneracyEvent`
carries its own long message, and joining them repeated the same explanation and the same
remedies for every component.  :func:`describe_events` names the components of each kind in
one sentence, then the remedies once.  The session's banner text and the estimator's warning
(the command line prints it) both say it this way.
"""

from __future__ import annotations

from gmm_studio.core.em import DegeneracyEvent

__all__ = ["component_names", "describe_events"]

_KIND_TEXT = {
    "singular": ("has a covariance that is not positive definite", "have covariances that are not "
                 "positive definite", ": EM cannot continue."),
    "collapsed": ("has collapsed", "have collapsed", ": their points lie on a point or a line, so "
                  "their variance comes only from reg_covar and the likelihood grows without bound."),
    "empty": ("is empty", "are empty", ": less than one point of weight."),
}


def component_names(components: list[int]) -> str:
    """'Component 2' or 'Components 1, 2 and 4' for 0-based indices (numbered from 1, as shown)."""
    numbers = [str(k + 1) for k in components]
    if len(numbers) == 1:
        return f"Component {numbers[0]}"
    return f"Components {', '.join(numbers[:-1])} and {numbers[-1]}"


def describe_events(events: tuple[DegeneracyEvent, ...]) -> str:
    """One banner text for a state's events: one sentence per kind of problem, then the remedies."""
    sentences = []
    for kind, (one, many, why) in _KIND_TEXT.items():
        components = sorted({e.component for e in events if e.kind == kind})
        if components:
            verb = one if len(components) == 1 else many
            tail = why if len(components) > 1 else why.replace("their", "its").replace("have", "has")
            sentences.append(f"{component_names(components)} {verb}{tail}")
    remedies = list(dict.fromkeys(r for e in events for r in e.remedies))
    if remedies:
        text = ", ".join(remedies[:-1]) + (" or " if len(remedies) > 1 else "") + remedies[-1]
        sentences.append(text[0].upper() + text[1:] + ".")
    return " ".join(sentences)
