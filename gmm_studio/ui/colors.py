"""Colours for mixture components and per-point responsibilities.

Qt-free: numpy only, so the colour logic can be tested and benchmarked without a display.
Every function returns colours the drawing code can hand straight to
:meth:`gmm_studio.ui.point_cloud.PointCloud.set_colors`: ``(N, 4)`` ``uint8`` RGBA, or, after
:func:`pack_argb32_premultiplied`, the ``(N,)`` ``uint32`` the raster is made of (the fit worker
packs on its own thread so the GUI thread does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_studio.core.geometry import label_classes, match_labels

__all__ = [
    "LabelColours",
    "true_label_colours",
    "label_colors",
    "component_palette",
    "blend_colors",
    "hard_label_colors",
    "uncertainty_shading",
    "pack_argb32_premultiplied",
    "packed_colors",
    "COLOR_MODES",
]

# Okabe & Ito's colour-blind-safe set without its yellow (invisible on white) and black (kept for
# uncertainty shading), then Paul Tol's muted wine, olive, indigo and teal: ten
# colours that stay apart for the common colour-vision deficiencies and read on a light background.
_BASE_HEX = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#882255",  # wine
    "#999933",  # olive
    "#332288",  # indigo
    "#44AA99",  # teal
)
_BASE = np.array(
    [[int(h[i : i + 2], 16) / 255.0 for i in (1, 3, 5)] for h in _BASE_HEX], dtype=np.float64
)
def _extra_candidates() -> np.ndarray:
    """Colours beyond the first ten are drawn from this fixed grid of the RGB cube.

    Only colours dark enough to read on white (luminance <= 0.7), not so dark they read as
    black, and saturated enough not to pass for the grey of uncertainty shading.
    """
    lv = np.linspace(0.0, 1.0, 8)
    grid = np.array(np.meshgrid(lv, lv, lv, indexing="ij")).reshape(3, -1).T
    lum = grid @ np.array([0.2126, 0.7152, 0.0722])
    sat = grid.max(axis=1) - grid.min(axis=1)
    return grid[(lum <= 0.7) & (lum >= 0.12) & (sat >= 0.3)]


def component_palette(k: int) -> np.ndarray:
    """Return ``k`` distinct colours, one per mixture component.

    The first ten are a fixed colour-blind-friendly set (Okabe-Ito and Tol muted), all dark
    enough to read on white. Beyond ten, each further colour is the one of a fixed grid of
    readable, saturated colours farthest (in RGB) from all colours chosen so far, so the set
    stays as spread out as it can; once the grid is used up (a few hundred) colours repeat.

    Parameters
    ----------
    k : int
        Number of components, ``k >= 0``.

    Returns
    -------
    numpy.ndarray
        ``(k, 3)`` float64 RGB in ``[0, 1]``. Deterministic: the same ``k`` always gives the
        same colours, and ``component_palette(k)`` is a prefix of ``component_palette(k + 1)``.
    """
    k = int(k)
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    if k <= len(_BASE):
        return _BASE[:k].copy()
    cand = _extra_candidates()
    chosen = list(_BASE)
    # Squared distance from each candidate to its nearest chosen colour.
    d2 = np.min(((cand[:, None, :] - _BASE[None, :, :]) ** 2).sum(axis=2), axis=1)
    for _ in range(k - len(_BASE)):
        if not np.any(d2 > 0):
            chosen.append(chosen[len(chosen) % len(_BASE)])
            continue
        i = int(np.argmax(d2))
        chosen.append(cand[i])
        d2 = np.minimum(d2, ((cand - cand[i]) ** 2).sum(axis=1))
    return np.array(chosen, dtype=np.float64)


def _check_resp(resp: np.ndarray, palette: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    resp = np.asarray(resp)
    if resp.ndim != 2:
        raise ValueError(f"responsibilities must be (N, K), got shape {resp.shape}")
    if palette is not None:
        palette = np.asarray(palette, dtype=np.float64)
        if palette.ndim != 2 or palette.shape[1] != 3 or palette.shape[0] != resp.shape[1]:
            raise ValueError(
                f"palette must be (K, 3) with K={resp.shape[1]}, got shape {palette.shape}"
            )
    return resp, palette


def _to_rgba8(rgb255: np.ndarray, alpha: np.ndarray | int = 255) -> np.ndarray:
    """Opaque uint8 RGBA from float RGB already scaled to [0, 255]; overwrites ``rgb255``."""
    out = np.empty((rgb255.shape[0], 4), dtype=np.uint8)
    # Round half up rather than truncate, so a pure palette colour survives exactly.
    rgb255 += 0.5
    np.clip(rgb255, 0.0, 255.0, out=rgb255)
    out[:, :3] = rgb255
    out[:, 3] = alpha
    return out


def blend_colors(resp: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Colour each point by its responsibility-weighted mix of component colours.

    ``colour_n = sum_k resp[n, k] * palette[k]``: a point shared between two components is
    drawn half-way between their colours, which is what "soft" assignment looks like.

    Parameters
    ----------
    resp : numpy.ndarray
        ``(N, K)`` responsibilities; rows are expected to sum to one.
    palette : numpy.ndarray
        ``(K, 3)`` RGB in ``[0, 1]``, e.g. from :func:`component_palette`.

    Returns
    -------
    numpy.ndarray
        ``(N, 4)`` uint8 RGBA, opaque.
    """
    resp, palette = _check_resp(resp, palette)
    # One (N, K) @ (K, 3) matmul: about 10 ms at N = 1e6, no per-point Python.
    return _to_rgba8(resp @ (palette * 255.0))


def hard_label_colors(resp: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Colour each point by its most responsible component, ``palette[argmax_k resp[n, k]]``.

    Parameters
    ----------
    resp : numpy.ndarray
        ``(N, K)`` responsibilities.
    palette : numpy.ndarray
        ``(K, 3)`` RGB in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        ``(N, 4)`` uint8 RGBA, opaque.
    """
    resp, palette = _check_resp(resp, palette)
    lut = _to_rgba8(palette * 255.0)
    return lut[np.argmax(resp, axis=1)]


def _normalised_uncertainty(resp: np.ndarray) -> np.ndarray:
    """``1 - max_k resp``, rescaled so that 1 means "all K components equally likely"."""
    k = resp.shape[1]
    u = 1.0 - resp.max(axis=1)
    if k > 1:
        u *= k / (k - 1.0)
    return np.clip(u, 0.0, 1.0)


def uncertainty_shading(
    resp: np.ndarray,
    palette: np.ndarray | None = None,
    *,
    mode: str = "grey",
    min_alpha: float = 0.15,
) -> np.ndarray:
    """Shade each point by how unsure the model is about it, ``1 - max_k resp[n, k]``.

    The uncertainty is rescaled by ``K / (K - 1)`` so that 0 is certain and 1 is a uniform
    posterior, whatever ``K``.

    Parameters
    ----------
    resp : numpy.ndarray
        ``(N, K)`` responsibilities.
    palette : numpy.ndarray, optional
        ``(K, 3)`` RGB in ``[0, 1]``; required for ``mode="alpha"``.
    mode : {"grey", "alpha"}
        ``"grey"``: certain points light grey, uncertain points black, so the contested
        boundaries stand out. ``"alpha"``: the hard-label colour, fading towards transparent
        (down to ``min_alpha``) as uncertainty grows.
    min_alpha : float
        Opacity of the most uncertain points in ``"alpha"`` mode, in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        ``(N, 4)`` uint8 RGBA.
    """
    resp, palette = _check_resp(resp, palette)
    u = _normalised_uncertainty(resp)
    if mode == "grey":
        level = 0.85 * (1.0 - u)  # 0.85: certain points stay visible on white
        return _to_rgba8(np.repeat(255.0 * level[:, None], 3, axis=1))
    if mode == "alpha":
        if palette is None:
            raise ValueError('mode="alpha" needs a palette')
        out = hard_label_colors(resp, palette)
        alpha = min_alpha + (1.0 - min_alpha) * (1.0 - u)
        out[:, 3] = np.clip(alpha * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)
        return out
    raise ValueError(f'mode must be "grey" or "alpha", got {mode!r}')


#: The generator's label for outliers; drawn grey and never matched to a component.
OUTLIER_LABEL = "-1"
_OUTLIER_RGB = np.array([150, 150, 150]) / 255.0


@dataclass(frozen=True, eq=False)
class LabelColours:
    """Colours for a label column, and what the legend says about them.

    Attributes
    ----------
    rgba : ndarray of uint8, shape (N, 4)
        One opaque colour per point.
    classes : tuple of str
        The distinct labels, in reading order (outliers last).
    rgb : ndarray of float, shape (C, 3)
        Each class's colour, in [0, 1].
    component : ndarray of int, shape (C,)
        The component each class was matched to, -1 when none.
    names : tuple of str
        Legend text per class, e.g. ``"setosa (component 2)"``.
    """

    rgba: np.ndarray
    classes: tuple[str, ...]
    rgb: np.ndarray
    component: np.ndarray
    names: tuple[str, ...]


def true_label_colours(labels: np.ndarray, palette: np.ndarray | None = None,
                       assignments: np.ndarray | None = None) -> LabelColours:
    """Colour the points by their label, each class in the colour of the component it matches.

    With a fit (``palette`` of its K components and the points' hard ``assignments``), each
    class is paired with the component it overlaps most, one to one
    (:func:`gmm_studio.core.geometry.match_labels`), and wears that component's colour, so the
    two pictures can be compared at a glance; classes left over get colours no component
    uses.  Without a fit the classes take the palette in order.  Outliers (label ``"-1"``)
    are grey.  Any thread.

    Parameters
    ----------
    labels : array of shape (N,)
    palette : ndarray of shape (K, 3), optional
        The components' colours in [0, 1].
    assignments : array of int, shape (N,), optional
        Each point's component, e.g. ``responsibilities.argmax(axis=1)``; needs ``palette``.
    """
    text = np.asarray(labels).astype(str).ravel()
    outlier = text == OUTLIER_LABEL
    classes, codes = label_classes(text[~outlier])
    c = len(classes)
    component = np.full(c, -1, dtype=np.intp)
    fitted = palette is not None and assignments is not None
    if fitted:
        palette = np.asarray(palette, dtype=np.float64)
        assignments = np.asarray(assignments).ravel()
        _, component = match_labels(text[~outlier], assignments[~outlier], len(palette))
        free = iter(component_palette(len(palette) + int(np.sum(component < 0)))[len(palette):])
        rgb = np.array([palette[k] if k >= 0 else next(free) for k in component]).reshape(c, 3)
    else:
        rgb = component_palette(c)
    classes_out = [str(name) for name in classes]
    if fitted:
        names = [f"{name} (component {k + 1})" if k >= 0 else f"{name} (no component)"
                 for name, k in zip(classes_out, component)]
    else:
        names = list(classes_out)
    point_rgb = np.empty((len(text), 3))
    point_rgb[~outlier] = rgb[codes]
    point_rgb[outlier] = _OUTLIER_RGB
    rgb_out, component_out = rgb, component
    if outlier.any():
        classes_out.append(OUTLIER_LABEL)
        names.append("outliers")
        rgb_out = np.vstack([rgb, _OUTLIER_RGB])
        component_out = np.append(component, -1)
    return LabelColours(_to_rgba8(point_rgb * 255.0), tuple(classes_out), rgb_out,
                        component_out, tuple(names))


def label_colors(labels: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 colours of ground-truth labels before any fit (see :func:`true_label_colours`)."""
    return true_label_colours(labels).rgba


def pack_argb32_premultiplied(rgba: np.ndarray) -> np.ndarray:
    """Pack ``(N, 4)`` (or ``(N, 3)``) uint8 straight RGBA into ``uint32`` ``0xAARRGGBB``.  Any thread.

    Colour channels are premultiplied by alpha, which is what
    ``QImage.Format_ARGB32_Premultiplied`` (the raster engine's native format) expects. Working
    on ``uint32`` values rather than bytes makes it independent of byte order. About 6 ms at
    N = 1e6 on an idle core, so the fit worker does it rather than the GUI thread.
    """
    rgba = np.asarray(rgba)
    n = rgba.shape[0]
    rgb = rgba[:, :3].astype(np.uint32)
    if rgba.shape[1] == 4:
        a = rgba[:, 3].astype(np.uint32)
        if a.size and a.min() < 255:
            rgb = (rgb * a[:, None] + 127) // 255
    else:
        a = np.full(n, 255, dtype=np.uint32)
    return (a << 24) | (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]


#: The responsibility colourings :func:`packed_colors` makes.
COLOR_MODES = ("blend", "hard", "uncertainty")


def packed_colors(resp: np.ndarray, palette: np.ndarray, mode: str = "blend",
                  rows: np.ndarray | None = None) -> np.ndarray:
    """Packed colours from responsibilities, for every point or only for ``rows``.  Any thread.

    'blend' mixes component colours by γ (:func:`blend_colors`); 'hard' takes the most
    responsible component's colour (:func:`hard_label_colors`); 'uncertainty' shades by
    1 − max_k γ, dark = contested (:func:`uncertainty_shading`, grey).  Every mode colours a
    point from its own row alone, so ``packed_colors(resp, p, m, rows)`` equals
    ``packed_colors(resp, p, m)[rows]`` exactly while reading only those rows: with the
    point cloud's visible owners as ``rows`` (``PointCloud.visible_owners().indices``) a fit
    worker colours a few hundred thousand points instead of 1e7.

    Parameters
    ----------
    resp : numpy.ndarray
        ``(N, K)`` responsibilities.
    palette : numpy.ndarray
        ``(K, 3)`` RGB in ``[0, 1]``.
    mode : {"blend", "hard", "uncertainty"}
    rows : numpy.ndarray, optional
        Indices of the points to colour, in the order wanted.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` or ``(len(rows),)`` uint32 ARGB32-premultiplied, ready for ``PointCloud``.
    """
    if rows is not None:
        resp = np.asarray(resp)[rows]
    if mode == "hard":
        rgba = hard_label_colors(resp, palette)
    elif mode == "uncertainty":
        rgba = uncertainty_shading(resp, palette, mode="grey")
    elif mode == "blend":
        rgba = blend_colors(resp, palette)
    else:
        raise ValueError(f"mode must be one of {COLOR_MODES}, got {mode!r}")
    return pack_argb32_premultiplied(rgba)
