"""Registry behaviour: one decorator adds, duplicates raise, wildcards list."""

from __future__ import annotations

import pytest

from benchmarks.registry import Registry


@pytest.fixture()
def reg() -> Registry:
    r: Registry = Registry("widget")

    @r.register("alpha_bow", tags=("binary",), default_params={"k": 3})
    def alpha(k=1, j=0):
        """Alpha widget.

        More text.
        """
        return ("alpha", k, j)

    @r.register("beta")
    def beta():
        return "beta"

    return r


def test_register_and_build_merges_default_params(reg):
    assert reg.build("alpha_bow") == ("alpha", 3, 0)
    assert reg.build("alpha_bow", k=5, j=2) == ("alpha", 5, 2)
    entry = reg.get("alpha_bow")
    assert entry.summary == "Alpha widget."
    assert entry.kind == "widget"
    assert "binary" in entry.tags


def test_duplicate_name_raises(reg):
    with pytest.raises(ValueError, match="already registered"):

        @reg.register("beta")
        def other():
            return None


@pytest.mark.parametrize("bad", ["", "Has-Caps", "with space", "dash-ed"])
def test_invalid_names_raise(reg, bad):
    with pytest.raises(ValueError, match="name must be"):
        reg.register(bad)


def test_wildcards_tags_and_membership(reg):
    assert reg.list() == ["alpha_bow", "beta"]
    assert reg.list("*bow*") == ["alpha_bow"]
    assert reg.list("b?ta") == ["beta"]
    assert reg.list(tag="binary") == ["alpha_bow"]
    assert reg.list("nothing*") == []
    assert "beta" in reg and "gamma" not in reg
    assert len(reg) == 2
    assert [e.name for e in reg] == ["alpha_bow", "beta"]


def test_unknown_name_suggests_close_match(reg):
    with pytest.raises(KeyError, match="did you mean beta"):
        reg.get("betta")


def test_unregister(reg):
    reg.unregister("beta")
    assert reg.list() == ["alpha_bow"]
    with pytest.raises(KeyError):
        reg.unregister("beta")


def test_project_registries_are_populated():
    import cnn
    import features
    from benchmarks.classifiers import CLASSIFIERS

    assert {"raw", "hog"} <= set(features.list_features())
    assert {"logreg", "linear_svc"} <= set(CLASSIFIERS.list())
    assert "simple_convnet" in cnn.list_models()
