"""Model files: File › Import model JSON… and File › Export (the model, the per-point
responsibilities, the log-likelihood history, the figure as PNG or SVG).

:class:`ModelFiles` owns its actions; the window puts them into its File menu.  It reads the
window's public surface only (``dataset``, ``current_snapshot()``, ``history()``,
``settings()``, ``show_model()``, ``redraw()``, ``statusBar()``).  GUI thread; the writers are
atomic, so a failed export changes no file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from gmm_studio.core import selection
from gmm_studio.core.dataio import Dataset
from gmm_studio.core.em import EMData
from gmm_studio.core.export import (
    ExportError,
    LoadedModel,
    ModelFileError,
    check_model_matches,
    check_output_paths,
    load_model_json,
    preprocessing_dict,
    save_model_json,
    write_assignments_csv,
    write_history_csv,
)
from gmm_studio.core.params import MixtureParams, n_parameters
from gmm_studio.ui.window_settings import store as settings_store

__all__ = ["ModelFiles"]

_LAST_DIR_KEY = "files/last_dir"




def _permute_features(params: MixtureParams, perm: Sequence[int]) -> MixtureParams:
    """The same mixture with its features reordered: new feature j is old feature perm[j]."""
    p = np.asarray(perm, dtype=np.intp)
    cov = params.covariances
    kind = params.covariance_type
    if kind == "full":
        cov = cov[:, p][:, :, p]
    elif kind == "tied":
        cov = cov[p][:, p]
    elif kind == "diag":
        cov = cov[:, p]
    return MixtureParams(kind, params.weights, params.means[:, p], cov)


def _rescale_features(params: MixtureParams, a: np.ndarray, b: np.ndarray) -> MixtureParams:
    """The mixture of ``y = a * x + b`` (per-feature affine map) when x follows ``params``."""
    kind = params.covariance_type
    cov = params.covariances
    if kind == "full":
        cov = cov * a[None, :, None] * a[None, None, :]
    elif kind == "tied":
        cov = cov * a[:, None] * a[None, :]
    elif kind == "diag":
        cov = cov * a[None, :] ** 2
    else:
        if not np.allclose(a, a[0], rtol=1e-12):
            raise ModelFileError(
                "The model is spherical and was fitted with another standardisation; it cannot be "
                "shown on this data. Open the data with the same 'Standardise' choice.")
        cov = cov * a[0] ** 2
    return MixtureParams(kind, params.weights, params.means * a + b, cov)



class ModelFiles(QObject):
    """Import a model JSON; export the shown model, its responsibilities, history and figure.

    GUI thread.  Signals: ``model_imported(object)`` (the parameters shown) and
    ``exported(str)`` (a file was written).  Attributes ``import_model_action`` and
    ``export_menu`` are for the window's File menu.
    """

    model_imported = Signal(object)
    exported = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.last_error = ""
        self.import_model_action = QAction("Import model JSON…", self)
        self.import_model_action.setObjectName("importModelAction")
        self.import_model_action.setToolTip("Show a saved model on the open data; Run or Step continues EM from it")
        self.import_model_action.triggered.connect(self._on_import_model_triggered)
        self.export_menu = QMenu("Export")
        self.export_menu.setObjectName("exportMenu")
        self.export_menu.aboutToShow.connect(self.update_actions)
        self.export_model_action = self._export_action("Model as JSON…", self._on_export_model_triggered)
        self.export_assignments_action = self._export_action(
            "Per-point responsibilities (CSV)…", self._on_export_assignments_triggered)
        self.export_history_action = self._export_action(
            "Log-likelihood history (CSV)…", self._on_export_history_triggered)
        self.export_menu.addSeparator()
        self.export_png_action = self._export_action("Figure as PNG…", self._on_export_png_triggered)
        self.export_svg_action = self._export_action("Figure as SVG…", self._on_export_svg_triggered)
        self.update_actions()

    def _export_action(self, text: str, slot) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        self.export_menu.addAction(action)
        return action

    def _model_params(self) -> MixtureParams | None:
        snap = self.window.current_snapshot()
        dataset = self.window.dataset
        if snap is None or dataset is None or snap.params.n_features != dataset.n_features:
            return None
        return snap.params

    @Slot()
    def update_actions(self) -> None:
        """Enable what can be exported now, saying why the rest cannot (tooltips)."""
        has_data = self.window.dataset is not None
        has_model = self._model_params() is not None
        why_model = "" if has_model else ("Open data first." if not has_data else "Fit a model first.")
        for a in (self.export_model_action, self.export_assignments_action, self.export_history_action):
            a.setEnabled(has_model)
            a.setToolTip(why_model)
        for a in (self.export_png_action, self.export_svg_action, self.import_model_action):
            a.setEnabled(has_data)
        if not has_data:
            self.import_model_action.setToolTip("Open data first: a model is shown on data.")
        else:
            self.import_model_action.setToolTip(
                "Show a saved model on the open data; Run or Step continues EM from it")

    # ================================================================== model import
    @Slot()
    def _on_import_model_triggered(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Import a model", "",
                                              "GMM Studio model (*.json);;All files (*)")
        if path:
            self.import_model(path)

    def import_model(self, path: str) -> bool:
        """Show the model in ``path`` on the open data (EM continues from it with Run/Step).

        Any problem (unreadable file, different columns, different preprocessing) is shown
        in a message and nothing changes.
        """
        dataset = self.window.dataset
        if dataset is None:
            QMessageBox.warning(self.window, "Cannot import the model", "Open the data first.")
            return False
        try:
            loaded = load_model_json(path)
            params = self._params_for(loaded, dataset)
            self.window.show_model(params)
        except (ModelFileError, ValueError) as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self.window, "Cannot import the model", str(exc))
            return False
        self.window.statusBar().showMessage(
            f"Model from {os.path.basename(path)} shown: K = {params.n_components}, "
            f"{params.covariance_type}. Run or Step continues EM from it.", 10000)
        self.update_actions()
        self.model_imported.emit(params)
        return True

    @staticmethod
    def _params_for(loaded: LoadedModel, dataset: Dataset) -> MixtureParams:
        """The model's parameters in the open dataset's coordinates (raises ModelFileError)."""
        from gmm_studio.ui.import_dialog import ProjectedDataset
        pre = loaded.preprocessing
        model_proj = pre.get("projection")
        if isinstance(dataset, ProjectedDataset):
            if model_proj is None:
                raise ModelFileError(
                    "The model was fitted in all the columns, but the open data were fitted in a "
                    "2-D projection; open the data again choosing 'fit in all D dimensions'.")
            check_model_matches(loaded, dataset.input_columns)
            mine = dataset.preprocessing()
            same = (np.allclose(model_proj["matrix"], mine["projection"]["matrix"], rtol=1e-9, atol=1e-12)
                    and np.allclose(model_proj["offset"], mine["projection"]["offset"], rtol=1e-9, atol=1e-12)
                    and _same_standardization(pre.get("standardization"), mine["standardization"]))
            if not same:
                raise ModelFileError(
                    "The model was fitted in a different projection (or standardisation) of the "
                    "data; open the data with the choices the model was fitted with.")
            return loaded.params
        if model_proj is not None:
            raise ModelFileError(
                "The model was fitted in a 2-D projection of the data; open the data again "
                "choosing 'fit in the 2-D projection itself' with the same projection.")
        order = check_model_matches(loaded, dataset.columns)
        # order[i] = data index of model column i; we want model index of each data column.
        inverse = np.argsort(np.asarray(order))
        params = _permute_features(loaded.params, inverse)
        model_std = pre.get("standardization")
        if model_std is not None:
            c_m = np.asarray(model_std["center"])[inverse]
            s_m = np.asarray(model_std["scale"])[inverse]
        else:
            c_m = s_m = None
        c_d, s_d = dataset.center, dataset.scale
        if _same_standardization(None if c_m is None else {"center": c_m, "scale": s_m},
                                 None if c_d is None else {"center": c_d, "scale": s_d}):
            return params
        # x = u * s_m + c_m (u: model space); data v = (x - c_d) / s_d
        s_m1 = np.ones(params.n_features) if s_m is None else s_m
        c_m1 = np.zeros(params.n_features) if c_m is None else c_m
        s_d1 = np.ones(params.n_features) if s_d is None else np.asarray(s_d)
        c_d1 = np.zeros(params.n_features) if c_d is None else np.asarray(c_d)
        return _rescale_features(params, s_m1 / s_d1, (c_m1 - c_d1) / s_d1)

    # ================================================================== exports
    def _ask_save(self, title: str, default_name: str, filters: str, suffix: str) -> str | None:
        """A save dialog (which asks before overwriting); the suffix is added when missing."""
        store = settings_store()
        folder = str(store.value(_LAST_DIR_KEY, "") or "")
        path, _ = QFileDialog.getSaveFileName(self.window, title, os.path.join(folder, default_name), filters)
        if not path:
            return None
        if not os.path.splitext(path)[1]:
            path += suffix
        return path

    def _stem(self) -> str:
        dataset = self.window.dataset
        source = getattr(dataset, "source", "") or "gmm"
        return os.path.splitext(os.path.basename(source))[0] or "gmm"

    def _export(self, path: str, write: Callable[[], None]) -> bool:
        """Run ``write``; report the saved ``path``, or show why it could not be written.

        A failed write has changed nothing (the writers are atomic), and the open data file is
        never written over.  GUI thread."""
        try:
            source = getattr(self.window.dataset, "source", "")
            check_output_paths([("the export", path)],
                               [("the open data file", source)] if os.path.isfile(source) else [])
            write()
        except (ExportError, ValueError, np.linalg.LinAlgError) as exc:
            self.last_error = str(exc)
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return False
        self.window.statusBar().showMessage(f"Saved {path}", 8000)
        self.exported.emit(path)
        return True

    def _no_model(self) -> bool:
        if self._model_params() is None:
            QMessageBox.information(self.window, "Nothing to export", "Fit a model first.")
            return True
        return False

    @Slot()
    def _on_export_model_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export the model", f"{self._stem()}-model.json",
                              "GMM Studio model (*.json)", ".json")
        if path:
            self.export_model_json(path)

    def model_record(self) -> dict:
        """Everything :func:`save_model_json` is given for the shown model (GUI thread)."""
        w = self.window
        dataset = w.dataset
        snap = w.current_snapshot()
        params = self._model_params()
        if params is None:
            raise ValueError("There is no fitted model to export.")
        data = EMData(dataset.values, params.covariance_type)
        total, entropy = data.log_likelihood_and_entropy(params)  # one pass, no N×K array
        mean_ll = total / dataset.n_samples
        p = n_parameters(params.covariance_type, params.n_components, params.n_features)
        criteria = {}
        if math.isfinite(total):
            criteria = {
                "bic": selection.bic(total, p, dataset.n_samples),
                "aic": selection.aic(total, p),
                "icl": selection.icl(total, p, dataset.n_samples, entropy),
            }
        from gmm_studio.ui.import_dialog import ProjectedDataset

        settings = w.settings()
        if isinstance(dataset, ProjectedDataset):
            preprocessing = dataset.preprocessing()
        else:
            preprocessing = preprocessing_dict(dataset.center, dataset.scale)
        return dict(
            columns=tuple(dataset.columns),
            log_likelihood=mean_ll,
            n_iter=int(snap.iteration),
            converged=bool(snap.converged),
            criteria=criteria,
            n_samples=dataset.n_samples,
            settings=settings.to_dict(),
            preprocessing=preprocessing,
            seed=int(settings.seed),
        )

    def export_model_json(self, path: str) -> bool:
        return self._export(path, lambda: save_model_json(path, self._model_params(),
                                                          **self.model_record()))

    @Slot()
    def _on_export_assignments_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export per-point responsibilities", f"{self._stem()}-assignments.csv",
                              "CSV (*.csv)", ".csv")
        if path:
            self.export_assignments_csv(path)

    def export_assignments_csv(self, path: str) -> bool:
        """One row per point: file row, values in the file's units, component, γ, uncertainty."""
        dataset = self.window.dataset
        params = self._model_params()

        def write() -> None:
            if params is None:
                raise ValueError("There is no fitted model to export.")
            gamma = EMData(dataset.values, params.covariance_type).responsibilities(params)
            write_assignments_csv(path, dataset.original_values(), dataset.columns, gamma, dataset.row_index)

        return self._export(path, write)

    @Slot()
    def _on_export_history_triggered(self) -> None:
        if self._no_model():
            return
        path = self._ask_save("Export the log-likelihood history", f"{self._stem()}-history.csv",
                              "CSV (*.csv)", ".csv")
        if path:
            self.export_history_csv(path)

    def export_history_csv(self, path: str) -> bool:
        def write() -> None:
            snapshots = self.window.history()
            if not snapshots:
                raise ValueError("There is no fit history to export.")
            write_history_csv(path, snapshots)

        return self._export(path, write)

    def _plot_item(self):
        return self.window.data_stack.plot_widget().getPlotItem()  # the histogram for 1-D data

    @Slot()
    def _on_export_png_triggered(self) -> None:
        path = self._ask_save("Export the figure", f"{self._stem()}.png", "PNG image (*.png)", ".png")
        if path:
            self.export_figure(path, "png")

    @Slot()
    def _on_export_svg_triggered(self) -> None:
        path = self._ask_save("Export the figure", f"{self._stem()}.svg", "SVG drawing (*.svg)", ".svg")
        if path:
            self.export_figure(path, "svg")

    def export_figure(self, path: str, kind: str | None = None) -> bool:
        """The data view as PNG (twice the on-screen size) or SVG, written atomically."""
        from gmm_studio.ui.figure_export import write_figure

        def write() -> None:
            self.window.redraw()  # draw what is shown now, not 33 ms ago
            write_figure(self._plot_item(), path, kind)

        return self._export(path, write)


def _same_standardization(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (np.allclose(a["center"], b["center"], rtol=1e-12, atol=0)
            and np.allclose(a["scale"], b["scale"], rtol=1e-12, atol=0))
