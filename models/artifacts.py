"""Versioned, safe model artifacts.

    <model_dir>/<version>/model.skops   the fitted scikit-learn pipeline (skops: loading executes no code)
    <model_dir>/<version>/card.json     training window, features, metrics, data fingerprint, code version, sha256
    <model_dir>/<version>/card.md       the model card in words
    <model_dir>/<version>/calibration.png  the calibration chart (charts.calibration)
    <model_dir>/promoted                JSON {version, sha256}: the model scoring uses

Loading refuses a model whose file hash differs from both the card's and the pointer's, or whose skops file names
any type outside ``TRUSTED_TYPES``. Nothing personal is stored: no household ids, names or ID numbers; only
aggregate statistics (imputation medians, scaler moments, tree thresholds, drift bins).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ingest.privacy import DIR_MODE, FILE_MODE, private_dir

MODEL_FILE, CARD_JSON, CARD_MD, POINTER = "model.skops", "card.json", "card.md", "promoted"

TRUSTED_TYPES = frozenset({
    "sklearn.pipeline.Pipeline", "sklearn.impute._base.SimpleImputer", "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn._loss.loss.HalfBinomialLoss", "sklearn._loss.link.LogitLink", "sklearn._loss.link.Interval",
    "sklearn.calibration.CalibratedClassifierCV", "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration", "sklearn.isotonic.IsotonicRegression",
    "sklearn.frozen._frozen.FrozenEstimator",
    "sklearn.utils._bunch.Bunch", "numpy.dtype", "builtins.slice", "scipy.sparse._csr.csr_matrix",
    "sklearn.model_selection._split.StratifiedKFold", "sklearn.metrics._scorer._PassthroughScorer",
})


class ArtifactError(RuntimeError):
    """A model artifact that must not be used (tampered, unknown types, missing)."""


@dataclass
class LoadedModel:
    version: str
    model: object
    card: dict


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def code_version() -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "models"], capture_output=True,
                               text=True, timeout=5).stdout.strip()
        if head:
            return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version
    try:
        return "fangfanpin-" + version("fangfanpin")
    except PackageNotFoundError:
        return "unknown"


def save(model_dir: Path, version: str, model: object, card: dict, files: dict[str, str | bytes] | None = None) -> Path:
    """Write the model, then the card with the model's hash; returns the version folder."""
    import skops.io as sio

    folder = Path(model_dir) / version
    private_dir(Path(model_dir))
    folder.mkdir(mode=DIR_MODE, exist_ok=False)
    os.chmod(folder, DIR_MODE)  # owner-only: a model is derived from personal data
    sio.dump(model, folder / MODEL_FILE)
    card = dict(card, version=version, model_sha256=sha256(folder / MODEL_FILE))
    untrusted = set(sio.get_untrusted_types(file=folder / MODEL_FILE)) - TRUSTED_TYPES
    if untrusted:
        raise ArtifactError(f"model uses types outside the allow-list: {sorted(untrusted)}")
    (folder / CARD_JSON).write_text(json.dumps(card, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    for name, content in (files or {}).items():
        if isinstance(content, bytes):
            (folder / name).write_bytes(content)
        else:
            (folder / name).write_text(content, encoding="utf-8")
    for p in folder.iterdir():
        os.chmod(p, FILE_MODE)
    return folder


def promote(model_dir: Path, version: str) -> None:
    folder = Path(model_dir) / version
    pointer = Path(model_dir) / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version, "sha256": sha256(folder / MODEL_FILE)}), encoding="utf-8")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, pointer)


def promoted_version(model_dir: Path) -> dict | None:
    pointer = Path(model_dir) / POINTER
    if not pointer.exists():
        return None
    return json.loads(pointer.read_text(encoding="utf-8"))


def load_card(model_dir: Path, version: str) -> dict:
    return json.loads((Path(model_dir) / version / CARD_JSON).read_text(encoding="utf-8"))


# Deserialised models by (file, sha256): a daily run scores with the promoted model, and the demo's 30 runs in one
# process re-read and re-audited the same skops file each time (0.1-0.4 s a run). The hash is still checked per call.
_LOADED: dict[tuple[str, str], object] = {}


def load(model_dir: Path, version: str, expected_sha256: str | None = None) -> LoadedModel:
    """Load one version, refusing a tampered file or one with types outside the allow-list."""
    import skops.io as sio

    folder = Path(model_dir) / version
    path = folder / MODEL_FILE
    if not path.exists() or not (folder / CARD_JSON).exists():
        raise ArtifactError(f"model {version}: {MODEL_FILE} or {CARD_JSON} missing in {folder}")
    card = load_card(model_dir, version)
    actual = sha256(path)
    for source, wanted in (("card", card.get("model_sha256")), ("promoted pointer", expected_sha256)):
        if wanted is not None and wanted != actual:
            raise ArtifactError(f"model {version}: file hash {actual[:12]} differs from the {source}'s "
                                f"{str(wanted)[:12]}; refusing a changed artifact")
    from models.features import FEATURE_NAMES

    if list(card.get("features", [])) != list(FEATURE_NAMES):  # the card is read anew each time: checked each time
        raise ArtifactError(f"model {version}: trained on a different feature list than models/features.py; retrain")
    if (str(path), actual) in _LOADED:  # the same bytes as a file already audited and loaded by this process
        return LoadedModel(version, _LOADED[(str(path), actual)], card)
    try:
        untrusted = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
    except Exception as exc:  # noqa: BLE001 - any unreadable file is refused
        raise ArtifactError(f"model {version}: unreadable skops file ({exc})") from None
    if untrusted:
        raise ArtifactError(f"model {version}: types outside the allow-list {sorted(untrusted)}")
    model = sio.load(path, trusted=sorted(TRUSTED_TYPES))
    _LOADED[(str(path), actual)] = model
    return LoadedModel(version, model, card)


def load_promoted(model_dir: Path) -> LoadedModel | None:
    """The promoted model, or None when nothing was promoted yet. A tampered promoted model raises ArtifactError."""
    pointer = promoted_version(model_dir)
    if pointer is None:
        return None
    return load(model_dir, pointer["version"], pointer.get("sha256"))
