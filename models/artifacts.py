"""Versioned, safe model artifacts.

    <model_dir>/<version>/model.skops   the fitted scikit-learn pipeline (skops: loading executes no code)
    <model_dir>/<version>/card.json     training window, features, metrics, data fingerprint, code version, sha256
    <model_dir>/<version>/card.md       the model card in words
    <model_dir>/<version>/calibration.png  the calibration chart (charts.calibration)
    <model_dir>/promoted                JSON {version, sha256}: the model scoring uses

Loading refuses a model whose file hash differs from both the card's and the pointer's, or whose skops file names
any type outside ``TRUSTED_TYPES``, and a pointer whose version is not a folder directly inside the model folder
(``..``, an absolute path, a separator, a symlink out of it). ``usable_promoted`` turns any such refusal into a
reason in Chinese, so that the daily scoring goes on by the rules alone. Nothing personal is stored: no household
ids, names or ID numbers; only aggregate statistics (imputation medians, scaler moments, tree thresholds, drift bins).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fangfanpin.core.privacy import DIR_MODE, FILE_MODE, private_dir
from fangfanpin.models.features import FEATURE_NAMES

MODEL_FILE, CARD_JSON, CARD_MD, POINTER = "model.skops", "card.json", "card.md", "promoted"

TRUSTED_TYPES = frozenset(
    {
        "sklearn.pipeline.Pipeline",
        "sklearn.impute._base.SimpleImputer",
        "sklearn.preprocessing._data.StandardScaler",
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
        "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn._loss.loss.HalfBinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.Interval",
        "sklearn.calibration.CalibratedClassifierCV",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.calibration._SigmoidCalibration",
        "sklearn.isotonic.IsotonicRegression",
        "sklearn.frozen._frozen.FrozenEstimator",
        "sklearn.utils._bunch.Bunch",
        "numpy.dtype",
        "builtins.slice",
        "scipy.sparse._csr.csr_matrix",
        "sklearn.model_selection._split.StratifiedKFold",
        "sklearn.metrics._scorer._PassthroughScorer",
    }
)


class ArtifactError(RuntimeError):
    """A model artifact that must not be used (tampered, unknown types, missing); ``zh`` says why in Chinese."""

    def __init__(self, message: str, zh: str | None = None):
        super().__init__(message)
        self.zh = zh or message


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
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "models"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        if head:
            return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return "fangfanpin-" + version("fangfanpin")
    except PackageNotFoundError:
        return "unknown"


def version_folder(model_dir: Path, version: object) -> Path:
    """``<model_dir>/<version>``, refused unless ``version`` is a plain folder name that resolves directly inside
    the model folder: a pointer must not lead scoring to a model somewhere else."""
    model_dir = Path(model_dir)
    if (
        not isinstance(version, str)
        or version in ("", ".", "..")
        or "\0" in version
        or any(sep and sep in version for sep in ("/", "\\", os.sep, os.altsep))
    ):
        raise ArtifactError(
            f"model version {version!r:.60} is not a folder name inside {model_dir}",
            zh=f"启用指针中的版本 {version!r:.60} 不是模型目录中的文件夹名",
        )
    folder = model_dir / version
    if folder.resolve().parent != model_dir.resolve():
        raise ArtifactError(
            f"model version {version}: the folder leads outside {model_dir}",
            zh=f"模型 {version} 的文件夹指向模型目录之外",
        )
    return folder


def save(model_dir: Path, version: str, model: object, card: dict, files: dict[str, str | bytes] | None = None) -> Path:
    """Write the model, then the card with the model's hash; returns the version folder."""
    import skops.io as sio

    folder = version_folder(model_dir, version)
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
    folder = version_folder(model_dir, version)
    pointer = Path(model_dir) / POINTER
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version, "sha256": sha256(folder / MODEL_FILE)}), encoding="utf-8")
    os.chmod(tmp, FILE_MODE)
    os.replace(tmp, pointer)


def promoted_version(model_dir: Path) -> dict | None:
    """The pointer {version, sha256}; None when nothing was promoted. A pointer that is not such JSON, or whose
    version is not a folder inside ``model_dir``, raises ArtifactError."""
    pointer = Path(model_dir) / POINTER
    if not os.path.lexists(pointer):  # a dangling symlink is a pointer too, and a broken one
        return None
    try:
        doc = json.loads(pointer.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"model pointer {pointer}: unreadable ({exc})", zh=f"启用指针 {POINTER} 无法读取") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("sha256"), (str, type(None))):
        raise ArtifactError(f"model pointer {pointer}: not {{version, sha256}}", zh=f"启用指针 {POINTER} 格式错误")
    version_folder(model_dir, doc.get("version"))
    return doc


def load_card(model_dir: Path, version: str) -> dict:
    path = version_folder(model_dir, version) / CARD_JSON
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(
            f"model {version}: {CARD_JSON} unreadable ({exc})", zh=f"模型 {version} 的模型卡 {CARD_JSON} 无法读取"
        ) from None
    if not isinstance(card, dict):
        raise ArtifactError(f"model {version}: {CARD_JSON} is not an object", zh=f"模型 {version} 的模型卡格式错误")
    return card


# Deserialised models by (file, sha256): a daily run scores with the promoted model, and the demo's 30 runs in one
# process re-read and re-audited the same skops file each time (0.1-0.4 s a run). The hash is still checked per call.
_LOADED: dict[tuple[str, str], object] = {}


def load(model_dir: Path, version: str, expected_sha256: str | None = None) -> LoadedModel:
    """Load one version, refusing a tampered, unreadable or misplaced file, or one with types outside the allow-list."""
    import skops.io as sio

    folder = version_folder(model_dir, version)
    path = folder / MODEL_FILE
    if not path.is_file() or not (folder / CARD_JSON).is_file():
        raise ArtifactError(
            f"model {version}: {MODEL_FILE} or {CARD_JSON} missing in {folder}",
            zh=f"模型 {version} 缺少 {MODEL_FILE} 或 {CARD_JSON}（或不是普通文件）",
        )
    if path.resolve().parent != folder.resolve():
        raise ArtifactError(
            f"model {version}: {MODEL_FILE} leads outside {folder}",
            zh=f"模型 {version} 的 {MODEL_FILE} 指向模型目录之外",
        )
    card = load_card(model_dir, version)
    try:
        actual = sha256(path)
    except OSError as exc:
        raise ArtifactError(
            f"model {version}: {MODEL_FILE} unreadable ({exc})", zh=f"模型 {version} 的 {MODEL_FILE} 无法读取"
        ) from None
    for source, zh, wanted in (
        ("card", "模型卡", card.get("model_sha256")),
        ("promoted pointer", "启用指针", expected_sha256),
    ):
        if wanted is not None and wanted != actual:
            raise ArtifactError(
                f"model {version}: file hash {actual[:12]} differs from the {source}'s "
                f"{str(wanted)[:12]}; refusing a changed artifact",
                zh=f"模型 {version} 的文件哈希与{zh}记录的不符，拒绝使用被改动的模型",
            )
    if card.get("features") != list(FEATURE_NAMES):  # the card is read anew each time: checked each time
        raise ArtifactError(
            f"model {version}: trained on a different feature list than models/features.py; retrain",
            zh=f"模型 {version} 的特征与当前代码不一致，需要重新训练",
        )
    model = _LOADED.get((str(path), actual))  # the same bytes as a file already audited and loaded by this process
    if model is None:
        try:
            untrusted = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
        except Exception as exc:  # noqa: BLE001 - any unreadable file is refused
            raise ArtifactError(
                f"model {version}: unreadable skops file ({exc})", zh=f"模型 {version} 的 {MODEL_FILE} 无法读取"
            ) from None
        if untrusted:
            raise ArtifactError(
                f"model {version}: types outside the allow-list {sorted(untrusted)}",
                zh=f"模型 {version} 含有白名单以外的类型",
            )
        try:
            model = sio.load(path, trusted=sorted(TRUSTED_TYPES))
        except Exception as exc:  # noqa: BLE001 - a file skops cannot rebuild is refused like an unreadable one
            raise ArtifactError(
                f"model {version}: skops cannot load it ({exc})", zh=f"模型 {version} 的 {MODEL_FILE} 无法读取"
            ) from None
        _LOADED[(str(path), actual)] = model
    _check_shapes(version, model, card, len(FEATURE_NAMES))
    return LoadedModel(version, model, card)


def _check_shapes(version: str, model: object, card: dict, k: int) -> None:
    """Scoring and the drift check index the model's inputs and the card's reference by feature: all must have k."""
    reference = card.get("reference") if isinstance(card.get("reference"), dict) else {}
    sizes = [getattr(model, "n_features_in_", k)] + [
        len(v) if isinstance(v, list) else None for v in (reference.get("median"), reference.get("bins"))
    ]
    if sizes != [k, k, k]:
        raise ArtifactError(
            f"model {version}: inputs, reference medians and drift bins {sizes} do not match the {k} features",
            zh=f"模型 {version} 的输入或模型卡参考数据与特征数不符",
        )


def load_promoted(model_dir: Path) -> LoadedModel | None:
    """The promoted model, or None when nothing was promoted yet. A tampered promoted model raises ArtifactError."""
    pointer = promoted_version(model_dir)
    if pointer is None:
        return None
    return load(model_dir, pointer["version"], pointer.get("sha256"))


def usable_promoted(model_dir: Path) -> tuple[LoadedModel | None, str | None]:
    """(the promoted model, None); (None, None) when nothing was promoted; (None, why in Chinese) when the promoted
    model cannot be used: the daily scoring then goes on by the rules alone instead of failing."""
    try:
        return load_promoted(model_dir), None
    except ArtifactError as exc:
        return None, exc.zh
