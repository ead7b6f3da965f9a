"""Method names and how they become scikit-learn estimators.

A method name is either ``feature+classifier`` (a classical pipeline, e.g.
``hog+linear_svc``) or the name of a registered CNN model (``simple_convnet``).
Either may carry a variant suffix, ``base@variant`` (``cnn_bn@no_batch_norm``):
the same estimator as ``base``, but a distinct cell whose parameters come from
the run plan's rules matched on the full name (``[[params]] method =
"cnn_bn@no_batch_norm"``).
Every method is built into one scikit-learn classifier; the runner sees only
that interface.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["MethodSpec", "all_method_names", "build_method", "expand_methods", "parse_method"]


def _features():
    import features

    return features.FEATURES


def _classifiers():
    from benchmarks.classifiers import CLASSIFIERS

    return CLASSIFIERS


def _models():
    import cnn

    return cnn.MODELS


@dataclass(frozen=True)
class MethodSpec:
    """A parsed method name.

    Attributes
    ----------
    name : str
        As given: ``"hog+linear_svc"`` or ``"simple_convnet"``.
    family : {"classical", "cnn"}
    feature, classifier : str or None
        Set for classical methods.
    model : str or None
        Set for CNN methods.
    variant : str or None
        The part after ``@`` (``"no_batch_norm"`` in ``"cnn_bn@no_batch_norm"``).
    """

    name: str
    family: str
    feature: str | None = None
    classifier: str | None = None
    model: str | None = None
    variant: str | None = None

    @property
    def base(self) -> str:
        """The method name without its ``@variant`` suffix."""
        return self.name.partition("@")[0]


_VARIANT = re.compile(r"[A-Za-z0-9_.-]+")


def parse_method(name: str) -> MethodSpec:
    """Parse and validate a method name against the registries.

    Raises
    ------
    KeyError
        If a part of the name is not registered; the message names the closest entries.
    """
    name = name.strip()
    if "@" in name:
        base, _, variant = name.partition("@")
        if not _VARIANT.fullmatch(variant):
            raise ValueError(
                f"method {name!r}: a variant is 'base@name' with one name of letters, "
                "digits, '_', '.' or '-' after the '@'"
            )
        return replace(parse_method(base), name=name, variant=variant)
    if "+" in name:
        feature, _, classifier = name.partition("+")
        if "+" in classifier:
            raise ValueError(
                f"method {name!r} has more than one '+'; a classical method is "
                "'feature+classifier' (join features with the 'concat' feature instead)"
            )
        _features().get(feature)
        _classifiers().get(classifier)
        return MethodSpec(name, "classical", feature=feature, classifier=classifier)
    _models().get(name)
    return MethodSpec(name, "cnn", model=name)


def all_method_names() -> list[str]:
    """Every composable method: each feature with each classifier, and each CNN model."""
    classical = [f"{f}+{c}" for f in _features().list() for c in _classifiers().list()]
    return classical + _models().list()


def expand_methods(patterns: Iterable[str]) -> list[str]:
    """Expand comma-separated names and shell wildcards into method names.

    Exact names are validated (so typos raise with suggestions); a wildcard that
    matches nothing raises too. Order follows the patterns; duplicates are dropped.
    """
    names: list[str] = []
    universe: list[str] | None = None
    for raw in patterns:
        for pat in (p.strip() for p in raw.split(",")):
            if not pat:
                continue
            if any(ch in pat for ch in "*?["):
                universe = universe if universe is not None else all_method_names()
                hits = [n for n in universe if fnmatch.fnmatchcase(n, pat)]
                if not hits:
                    raise KeyError(f"--methods pattern {pat!r} matches no registered method")
            else:
                hits = [parse_method(pat).name]
            names.extend(h for h in hits if h not in names)
    return names


def build_method(name: str, params: Mapping[str, Any] | None = None, *, seed: int = 0):
    """Build the unfitted estimator of method ``name``.

    Parameters
    ----------
    name : str
        Method name (see module docstring).
    params : dict, optional
        Classical: ``{"feature": {...}, "classifier": {...}, "scaler": "standard"|"none"}``.
        CNN: keyword arguments of :class:`cnn.KerasClassifier` (``epochs``, ...).
    seed : int, default=0
        Passed as ``random_state`` to every seeded component.

    Returns
    -------
    estimator : sklearn classifier
        Classical: ``Pipeline([("features", ...), ("scale", ...), ("clf", ...)])``.
    """
    spec = parse_method(name)
    params = dict(params or {})
    if spec.family == "cnn":
        import cnn

        return cnn.KerasClassifier(model=spec.model, random_state=seed, **params)
    unknown = set(params) - {"feature", "classifier", "scaler"}
    if unknown:
        raise ValueError(
            f"params of classical method {name!r} take the keys 'feature', 'classifier' "
            f"and 'scaler', got {sorted(unknown)}"
        )
    feature = _features().build(spec.feature, **dict(params.get("feature", {})))
    if "random_state" in feature.get_params():
        feature.set_params(random_state=seed)
    classifier = _classifiers().build(
        spec.classifier, random_state=seed, **dict(params.get("classifier", {}))
    )
    scaler = params.get("scaler", "standard")
    if scaler not in ("standard", "none"):
        raise ValueError(f"scaler must be 'standard' or 'none', got {scaler!r}")
    return Pipeline(
        [
            ("features", feature),
            ("scale", StandardScaler() if scaler == "standard" else "passthrough"),
            ("clf", classifier),
        ]
    )
