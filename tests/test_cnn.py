"""Tests of cnn: builders, the Keras classifier, training helpers."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

keras = pytest.importorskip("keras")
cnn = pytest.importorskip("cnn")

from sklearn.base import clone  # noqa: E402

DATA_DIR = os.environ.get("CVBENCH_DATA_DIR")


def _toy(n=240, shape=(16, 16, 1), n_classes=3, seed=0):
    """Images whose class is which horizontal band is bright: learnable in one epoch."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    X = rng.integers(0, 60, (n, *shape)).astype(np.uint8)
    band = shape[0] // n_classes
    for i, c in enumerate(y):
        X[i, c * band : (c + 1) * band] = 230
    return X, y


# ------------------------------------------------------------------ builders
def test_registry_lists_models():
    assert {"simple_convnet", "cnn_bn", "resnet20", "mobilenetv2", "resnet50"} <= set(
        cnn.list_models()
    )
    with pytest.raises(KeyError, match="did you mean"):
        cnn.get_model("simple_convnt")


def test_simple_convnet_param_count():
    m = cnn.get_model("simple_convnet").build(input_shape=(28, 28, 1), num_classes=10)
    assert m.count_params() == 34_826
    counts = [layer.count_params() for layer in m.layers if layer.count_params()]
    assert counts == [320, 18_496, 16_010]
    assert m.output_shape == (None, 10)


def test_cnn_bn_default_param_count():
    m = cnn.get_model("cnn_bn").build(input_shape=(32, 32, 3), num_classes=10)
    assert m.count_params() == 289_642


@pytest.mark.parametrize(
    "params",
    [
        {"batch_norm": False},
        {"dropout": 0.3},
        {"l2": 1e-4},
        {"initializer": "glorot_uniform"},
        {"pooling": "average"},
        {"pooling": "global_max"},
        {"pooling": "global_average"},
        {"head": "flatten", "dense_units": 32},
    ],
)
def test_cnn_bn_switches_build(params):
    m = cnn.get_model("cnn_bn").build(
        input_shape=(16, 16, 1), num_classes=4, filters=(8, 16), **params
    )
    assert m.output_shape == (None, 4)
    kinds = {type(layer).__name__ for layer in m.layers}
    assert ("BatchNormalization" in kinds) == params.get("batch_norm", True)
    if params.get("dropout"):
        assert "Dropout" in kinds
    if params.get("l2"):
        assert len(m.losses) > 0
    if params.get("pooling") == "average":
        assert "AveragePooling2D" in kinds
    if params.get("pooling") == "global_max":
        assert "GlobalMaxPooling2D" in kinds


def test_cnn_bn_rejects_bad_switch():
    with pytest.raises(ValueError, match="pooling"):
        cnn.get_model("cnn_bn").build(input_shape=(16, 16, 1), num_classes=2, pooling="median")


def test_resnet9_matches_page_dawnbench_network():
    m = cnn.get_model("resnet9").build(input_shape=(32, 32, 3), num_classes=10)
    assert m.count_params() == 6_577_600  # 6.57M as in Page's ResNet-9
    assert m.output_shape == (None, 10)
    out = keras.ops.convert_to_numpy(m(np.zeros((2, 32, 32, 3), np.float32), training=False))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="at least 8x8"):
        cnn.get_model("resnet9").build(input_shape=(4, 4, 3), num_classes=10)


def test_resnet20_param_count():
    m = cnn.get_model("resnet20").build(input_shape=(32, 32, 3), num_classes=10)
    # He et al. 2016, Table 6: 0.27M. Option A (parameter-free shortcuts).
    assert m.count_params() == 271_098
    trainable = sum(int(np.prod(w.shape)) for w in m.trainable_weights)
    assert trainable == 269_722
    conv_dense = [
        layer
        for layer in m.layers
        if type(layer).__name__ in ("Conv2D", "Dense") and "proj" not in layer.name
    ]
    assert len(conv_dense) == 20  # 19 conv + 1 dense: "ResNet-20"
    b = cnn.get_model("resnet20").build(input_shape=(32, 32, 3), num_classes=10, shortcut="B")
    assert b.count_params() == 274_042
    with pytest.raises(ValueError, match="6n"):
        cnn.get_model("resnet20").build(input_shape=(32, 32, 3), num_classes=10, depth=21)


def test_mobilenetv2_pads_small_inputs():
    m = cnn.get_model("mobilenetv2").build(input_shape=(28, 28, 1), num_classes=10, alpha=0.35)
    assert m.input_shape == (None, 28, 28, 1)
    assert m.output_shape == (None, 10)
    assert any(type(layer).__name__ == "ZeroPadding2D" for layer in m.layers)
    out = m(np.zeros((2, 28, 28, 1), np.float32), training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out).sum(axis=1), 1.0, rtol=1e-5)


def test_resnet50_builds_at_cifar_resolution():
    m = cnn.get_model("resnet50").build(input_shape=(32, 32, 3), num_classes=10)
    assert m.count_params() == 23_608_202
    assert m.output_shape == (None, 10)


@pytest.mark.filterwarnings("ignore:`input_shape` is undefined:UserWarning")
def test_imagenet_weights_offline_fail_fast(monkeypatch):
    """Offline, weights="imagenet" raises a clear RuntimeError quickly (no hang)."""
    cache = Path.home() / ".keras" / "models"
    if any(cache.glob("mobilenet_v2*no_top.h5")):
        pytest.skip("ImageNet weights are cached here")

    def offline(*args, **kwargs):
        raise OSError("no network (test)")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    import keras.src.applications.mobilenet_v2 as mv2

    monkeypatch.setattr(mv2.file_utils, "get_file", offline)
    t = time.perf_counter()
    with pytest.raises(RuntimeError, match="weights=None"):
        cnn.get_model("mobilenetv2").build(
            input_shape=(32, 32, 3), num_classes=10, weights="imagenet"
        )
    assert time.perf_counter() - t < 10
    with pytest.raises(ValueError, match="3 channels"):
        cnn.get_model("mobilenetv2").build(
            input_shape=(32, 32, 1), num_classes=10, weights="imagenet"
        )


# ----------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def fitted():
    X, y = _toy()
    est = cnn.KerasClassifier(
        model="cnn_bn",
        model_params={
            "filters": (8, 16),
            "convs_per_block": 1,
            "batch_norm": False,
            "head": "flatten",
        },
        epochs=2,
        batch_size=32,
        learning_rate=3e-3,
        random_state=0,
    )
    return est.fit(X, y * 10 + 1), X, y * 10 + 1  # non-contiguous labels


def test_fit_sets_fitted_state(fitted):
    est, X, y = fitted
    assert list(est.classes_) == [1, 11, 21]
    assert set(est.history_) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(est.history_[k]) == 2 for k in ("loss", "accuracy", "val_loss", "val_accuracy"))
    assert len(est.epoch_times_s_) == 2 and all(t > 0 for t in est.epoch_times_s_)
    assert all(w >= t for w, t in zip(est.epoch_wall_s_, est.epoch_times_s_, strict=True))
    assert est.n_params_ == est.model_.count_params()
    assert est.model_bytes_ == 4 * est.n_params_  # float32 weights
    assert est.train_images_per_s_ > 0
    assert est.seed_ == 0 and est.backend_ == keras.backend.backend()
    assert est.describe_device().startswith(est.backend_)
    assert est.dtype_policy_ == "float32" or "gpu" in est.device_


def test_predict_learns_and_matches_proba(fitted):
    est, X, y = fitted
    proba = est.predict_proba(X)
    assert proba.shape == (len(X), 3) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    pred = est.predict(X)
    assert set(np.unique(pred)) <= set(est.classes_)
    assert np.mean(pred == y) > 0.9
    # chunked and batch-1 paths agree with one big batch
    one = np.concatenate([est.predict_proba(X[i : i + 1]) for i in range(5)])
    np.testing.assert_allclose(one, proba[:5], atol=1e-5)
    est2 = clone(est).set_params(predict_batch_size=7)
    est2.__dict__.update({k: v for k, v in est.__dict__.items() if k.endswith("_")})
    np.testing.assert_allclose(est2.predict_proba(X[:20]), proba[:20], atol=1e-5)


def test_batch1_uses_fast_path(fitted, monkeypatch):
    est, X, _ = fitted

    def forbidden(*a, **k):
        raise AssertionError("model.predict is slow for one image")

    monkeypatch.setattr(est.model_, "predict", forbidden)
    est.predict(X[:1])
    t = time.perf_counter()
    for i in range(20):
        est.predict(X[i : i + 1])
    assert (time.perf_counter() - t) / 20 < 0.05


def test_predict_checks_shape(fitted):
    est, X, _ = fitted
    with pytest.raises(ValueError, match="fitted on images of shape"):
        est.predict(np.zeros((2, 8, 8, 1), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        est.predict(X.astype(np.float32))


def test_clone_and_params():
    est = cnn.KerasClassifier(model="resnet20", model_params={"depth": 20}, epochs=3)
    c = clone(est)
    assert c.get_params() == est.get_params()
    assert not hasattr(c, "model_")
    pickle.loads(pickle.dumps(c))


def test_fit_validates():
    X, y = _toy(n=40)
    with pytest.raises(ValueError, match="epochs"):
        cnn.KerasClassifier(epochs=0).fit(X, y)
    with pytest.raises(KeyError, match="unknown model"):
        cnn.KerasClassifier(model="nope").fit(X, y)
    with pytest.raises(ValueError, match="y must"):
        cnn.KerasClassifier().fit(X, y[:-1])


def test_seed_makes_runs_repeatable():
    X, y = _toy(n=96)
    kw = dict(model="simple_convnet", epochs=1, batch_size=32, random_state=3, validation_split=0.0)
    a = cnn.KerasClassifier(**kw).fit(X, y).predict_proba(X[:8])
    b = cnn.KerasClassifier(**kw).fit(X, y).predict_proba(X[:8])
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_describe_device():
    s = cnn.describe_device()
    assert s.split()[0] == keras.backend.backend()
    assert s.split()[1] in ("cpu", "gpu", "tpu")


@pytest.mark.needs_data
@pytest.mark.skipif(not DATA_DIR, reason="CVBENCH_DATA_DIR not set")
def test_simple_convnet_real_mnist_one_epoch():
    d = np.load(Path(DATA_DIR) / "mnist.npz")
    X, y = d["x_train"][:3000], d["y_train"][:3000]
    est = cnn.KerasClassifier(epochs=1, batch_size=32, random_state=0).fit(X, y)
    assert np.mean(est.predict(d["x_test"][:1000]) == d["y_test"][:1000]) > 0.85
