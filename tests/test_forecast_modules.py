"""The forecaster is a package: ``capacity.forecast`` holds ``DemandForecaster`` and every name the
single module ``capacity/forecast.py`` defined, its modules (``capacity.forecast.validation``,
``.events``, ``.core``, ...) hold the steps, import one another one way, never the package's own
names, and do nothing at import."""

from __future__ import annotations

import importlib
import io
import pickle
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

import capacity
from tests import package_layout as layout

PACKAGE = "capacity.forecast"
PARTS_DIR = layout.package_dir(PACKAGE)
#: Every part, each importing only parts listed before it.
ORDER = (
    "constants",
    "shapes",
    "validation",
    "events",
    "masking",
    "transforms",
    "ensemble",
    "intervals",
    "prophet_calls",
    "core",
)
#: Where each name the single module defined lives now (all importable from the package).
HOMES = {
    "constants": ("_DAY", "_WEEK", "_OUTAGE", "_HOLIDAY"),
    "shapes": ("EventShape", "EVENT_SHAPES", "_FLAT"),
    "validation": (
        "_MIN_DAYS",
        "_validate_series",
        "_validate_events",
        "_validate_zone",
        "_validate_country",
        "_first_line",
        "_is_number",
        "_equal",
    ),
    "events": (
        "_reg",
        "_kinds_in",
        "_kind_events",
        "_windows",
        "_reaching",
        "_kind_weight",
        "_SIZE_RANGE",
        "_log_uplift",
        "_uplift_size",
        "_uplift_refs",
        "_observed_windows",
        "_kind_counts",
        "_scenario",
        "_holiday_windows",
    ),
    "masking": ("_REASON", "_mask", "_anomalies"),
    "transforms": ("_LAMBDAS", "_guerrero", "_trough", "_season_steps", "_fill_back"),
    "ensemble": (
        "_Parts",
        "_Validation",
        "_Choice",
        "_PROPHET_ONLY",
        "_blend",
        "_WEIGHTS",
        "_best_choice",
        "_validation_steps",
    ),
    "intervals": ("_lead_growth", "_conformal", "_widest", "_norm_ppf"),
    "prophet_calls": ("_PROPHET_LOGGERS", "_quiet", "_raise_os_error"),
    "core": (
        "_WEEKLY_SPAN",
        "_AR_TAIL_DAYS",
        "_AR_MIN_PAIRS",
        "_AR_MAX_PHI",
        "_STAN_PARAMS",
        "_as_init",
        "_Core",
    ),
}
#: What the package's ``__init__`` defines itself: the estimator and the constants only it uses.
OWN = {
    "DemandForecaster",
    "_MIN_PROPHET_DAYS",
    "_Z95",
    "_MIN_RESIDUALS",
    "_IN_SAMPLE_WIDENING",
    "_MIN_EARLIER_SPAN",
    "_ONE_WINDOW_STRETCH",
}


def test_every_name_of_the_single_module_imports_from_the_package():
    from capacity import forecast

    assert forecast.__all__ == ["EVENT_SHAPES", "DemandForecaster", "EventShape", "NotFittedError"]
    assert forecast.NotFittedError is capacity.NotFittedError
    assert capacity.DemandForecaster is forecast.DemandForecaster
    layout.check_homes(PACKAGE, {name: stem for stem, names in HOMES.items() for name in names})
    for name in OWN:
        assert name in vars(forecast), name
    assert (pd.Timedelta(days=1), pd.Timedelta(days=7)) == (forecast._DAY, forecast._WEEK)
    assert set(forecast.EVENT_SHAPES) >= {"season", "launch", "patch", "holiday"}


def test_the_estimator_keeps_its_module_for_pickles_and_labels():
    """A pickle names a class by module and qualified name; the estimator's stays
    ``capacity.forecast.DemandForecaster``, and every class the single module defined is found
    under the name a pickle written before the split gives it."""
    from capacity import forecast

    assert forecast.DemandForecaster.__module__ == "capacity.forecast"
    assert forecast.DemandForecaster.__qualname__ == "DemandForecaster"
    finder = pickle.Unpickler(io.BytesIO(b""))
    for name in ("DemandForecaster", "EventShape", "_Core", "_Parts", "_Validation", "_Choice"):
        assert finder.find_class("capacity.forecast", name) is getattr(forecast, name), name


def test_a_fitted_fallback_forecaster_survives_pickling():
    """A worker process gets forecasters pickled; a constant series falls back without Prophet,
    so this round trip takes milliseconds."""
    ts = pd.date_range("2026-10-01", periods=24 * 5, freq="h", tz="UTC")
    model = capacity.DemandForecaster().fit(pd.DataFrame({"ts": ts, "value": 42.0}))
    again = pickle.loads(pickle.dumps(model))
    assert type(again) is capacity.DemandForecaster and again.fallback_
    pd.testing.assert_frame_equal(again.predict(48), model.predict(48), check_exact=True)
    np.testing.assert_array_equal(again.predict(48)["yhat"], np.full(48, 42.0))


def test_the_layout_is_the_parts_and_an_init_holding_the_estimator():
    assert not (PARTS_DIR.parent / "forecast.py").exists()
    assert set(ORDER) == set(HOMES)
    # small modules, not the 1,730 lines again
    layout.check_small_documented_parts(PACKAGE, ORDER, 400)
    # after the docstring: imports, __all__, constants, the class
    assert layout.root_own_names(PACKAGE, plain_imports=True) == OWN | {"__all__"}


def test_the_parts_import_one_way():
    # under ``if TYPE_CHECKING:`` only DemandForecaster, for its annotations
    layout.check_layers(PACKAGE, layout.layers_from_order(ORDER), annotations_from_root=True)


def test_importing_the_package_fits_nothing():
    layout.check_quiet_import(
        [PACKAGE, *(f"{PACKAGE}.{stem}" for stem in ORDER)],
        unloaded=["prophet", "cmdstanpy", "holidays"],
    )


def test_the_benchmarks_forecaster_version_covers_every_module(tmp_path, monkeypatch):
    """``benchmarks/scaling_policies.py`` names the forecaster's version: the sha256 over the
    package's sources (``capacity.plan``'s fingerprint), so an edit of any module is a new
    version, not only of the ``__init__``."""
    from capacity.plan import _code_sha256

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    scaling_policies = importlib.import_module("scaling_policies")
    version = scaling_policies._loaded_forecaster()
    assert version == _code_sha256(PARTS_DIR)[:12] and len(version) == 12
    copy = tmp_path / "forecast"
    shutil.copytree(PARTS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert _code_sha256(copy)[:12] == version
    core = copy / "core.py"
    core.write_text(core.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _code_sha256(copy)[:12] != version
