"""Tests of cnn's helpers: pooling, model facts, conv arithmetic, why-CNN, training tools."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

keras = pytest.importorskip("keras")
cnn = pytest.importorskip("cnn")

POOL_IN = [[12, 20, 30, 0], [8, 12, 2, 0], [34, 70, 37, 4], [112, 100, 25, 12]]


# ------------------------------------------------------------------ pooling
def test_pooling_demo_keras_layers():
    out = cnn.pooling_demo(POOL_IN)
    np.testing.assert_array_equal(out["max"], [[20, 30], [112, 37]])
    np.testing.assert_allclose(out["average"], [[13, 8], [79, 19.5]])
    assert out["global_max"] == 112
    assert out["global_average"] == pytest.approx(478 / 16)
    default = cnn.pooling_demo()
    np.testing.assert_array_equal(default["max"], out["max"])


# -------------------------------------------------------------- model facts
def test_layer_table_simple_convnet():
    m = cnn.get_model("simple_convnet").build(input_shape=(28, 28, 1), num_classes=10)
    rows = {r["name"]: r for r in cnn.layer_table(m)}
    assert rows["conv1"]["output_shape"] == (None, 26, 26, 32)
    assert rows["conv1"]["macs"] == 26 * 26 * 32 * 9
    assert rows["conv2"]["output_shape"] == (None, 11, 11, 64)
    assert rows["conv2"]["macs"] == 11 * 11 * 64 * 9 * 32
    assert rows["flatten"]["output_shape"] == (None, 1600)
    assert rows["predictions"]["params"] == 16_010
    facts = cnn.model_facts(m)
    assert facts["params"] == 34_826 and facts["non_trainable_params"] == 0
    assert facts["macs"] == 2_440_960 and facts["flops"] == 2 * facts["macs"]
    assert facts["weight_bytes"] == 4 * 34_826


def test_model_facts_resnet20_and_nested_application():
    r = cnn.model_facts(cnn.get_model("resnet20").build(input_shape=(32, 32, 3), num_classes=10))
    assert r["params"] == 271_098 and r["non_trainable_params"] == 1_376
    assert 40e6 < r["macs"] < 42e6  # ~41M MACs, the usual figure for ResNet-20
    m = cnn.get_model("mobilenetv2").build(input_shape=(32, 32, 3), num_classes=10, alpha=0.35)
    rows = cnn.layer_table(m)
    assert any("/" in row["name"] for row in rows)  # backbone expanded
    assert sum(row["params"] for row in rows) == m.count_params()


# ---------------------------------------------------------- conv arithmetic
@pytest.mark.parametrize(
    "n, k, s, p, out",
    [
        (28, 3, 1, 0, 26),
        (28, 3, 1, "same", 28),
        (227, 11, 4, 0, 55),
        (32, 3, 2, 1, 16),
        (5, 2, 2, 0, 2),
    ],
)
def test_conv_output_size(n, k, s, p, out):
    assert cnn.conv_output_size(n, k, s, p) == out


def test_conv_output_size_matches_keras():
    for n, k, s, pad in [(28, 3, 1, "valid"), (31, 5, 2, "same"), (32, 3, 2, "valid")]:
        layer = keras.layers.Conv2D(1, k, strides=s, padding=pad)
        shape = layer.compute_output_shape((1, n, n, 1))
        assert shape[1] == cnn.conv_output_size(n, k, s, pad)


def test_conv_input_size_and_solvers():
    assert cnn.conv_input_size(55, 11, 4, 0) == 227
    assert cnn.solve_kernel_padding(227, 55, 4)[0] == (11, 0)
    assert (11, 0) not in cnn.solve_kernel_padding(224, 55, 4)  # the AlexNet 224 puzzle
    assert (11, 2) in cnn.solve_kernel_padding(224, 55, 4, exact=False)
    assert cnn.solve_stride(227, 55, 11) == [4]
    with pytest.raises(ValueError):
        cnn.conv_output_size(3, 5)


# ----------------------------------------------------------------- why CNN
def test_why_cnn_table_counts():
    rows = {r["layer"]: r for r in cnn.why_cnn_table((28, 28, 1), filters=32, kernel=3)}
    n_in, n_out = 28 * 28, 26 * 26 * 32
    assert rows["dense"]["params"] == n_in * n_out + n_out
    assert rows["locally_connected"]["params"] == 26 * 26 * 9 * 32 + n_out
    conv = keras.layers.Conv2D(32, 3)
    conv.build((None, 28, 28, 1))
    assert rows["conv"]["params"] == conv.count_params() == 320
    dense = keras.layers.Dense(n_out)
    dense.build((None, n_in))
    assert rows["dense"]["params"] == dense.count_params()
    assert rows["conv"]["macs"] == rows["locally_connected"]["macs"]
    assert rows["dense"]["params"] > rows["locally_connected"]["params"] > rows["conv"]["params"]


# ---------------------------------------------------------- training tools
@pytest.mark.parametrize("kind", ["cosine", "one_cycle", "step"])
def test_schedules_shape(kind):
    sched = cnn.make_schedule(kind, 0.1, total_steps=100, warmup_steps=10)
    lr = np.array([float(sched(s)) for s in range(0, 101, 5)])
    assert lr.max() <= 0.1 + 1e-6 and lr.min() >= 0
    assert lr[-1] < 0.011
    if kind == "step":
        assert lr[0] == pytest.approx(0.1)
        assert float(sched(60)) == pytest.approx(0.01)
    else:
        assert np.argmax(lr) > 0  # warm-up first
    assert cnn.make_schedule(None, 0.1, 100) == 0.1
    with pytest.raises(ValueError):
        cnn.make_schedule("poly", 0.1, 100)


def test_one_cycle_serializes():
    s = cnn.OneCycle(0.01, 50)
    t = cnn.OneCycle.from_config(s.get_config())
    assert float(t(20)) == pytest.approx(float(s(20)))


def test_augmentation_layers():
    aug = cnn.make_augmentation("flip_translate", (8, 8, 1), seed=0)
    kinds = [type(layer).__name__ for layer in aug.layers]
    assert kinds == ["RandomFlip", "RandomTranslation"]
    assert cnn.make_augmentation(None, (8, 8, 1)) is None
    x = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8, 1)
    y = keras.ops.convert_to_numpy(aug(x, training=True))
    assert y.shape == x.shape and not np.array_equal(x, y)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(aug(x, training=False)), x)
    with pytest.raises(ValueError):
        cnn.make_augmentation({"shear": 0.1}, (8, 8, 1))


def test_translation_shifts_whole_pixels_without_blurring():
    """Pad-and-crop semantics: every output pixel is an input pixel or zero fill.

    (Keras' default bilinear interpolation would mix neighbours at fractional
    offsets, blurring every training image.)
    """
    aug = cnn.make_augmentation({"translate": 0.125}, (32, 32, 1), seed=0)
    x = np.random.default_rng(0).permutation(32 * 32).astype(np.float32) + 1.0
    x = np.broadcast_to(x.reshape(1, 32, 32, 1), (16, 32, 32, 1))
    y = keras.ops.convert_to_numpy(aug(x, training=True))
    assert np.isin(y, np.append(x[0].ravel(), 0.0)).all(), "interpolated values appeared"
    for img in y:  # each image is one whole-pixel shift of the original, at most 4 px
        rows, cols = np.nonzero(img[..., 0])
        dy, dx = np.argwhere(x[0, ..., 0] == img[rows[0], cols[0], 0])[0] - (rows[0], cols[0])
        assert abs(dy) <= 4 and abs(dx) <= 4
        shifted = np.roll(x[0, ..., 0], (-dy, -dx), axis=(0, 1))
        np.testing.assert_array_equal(img[rows, cols, 0], shifted[rows, cols])


def test_dataset_pipeline_scales_and_batches():
    X = np.full((10, 4, 4, 1), 255, np.uint8)
    ds = cnn.make_dataset(X, np.arange(10), 4, shuffle=True, seed=0)
    batches = list(ds.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    assert batches[0][0].dtype == np.float32 and batches[0][0].max() == 1.0
    assert sorted(np.concatenate([b[1] for b in batches])) == list(range(10))


def test_array_batches_match_the_tf_data_pipeline_steps():
    # the PyDataset used where TensorFlow is absent: same scaling, batching and shuffling
    X = np.repeat(np.arange(10, dtype=np.uint8)[:, None, None, None] * 25, 4, axis=1)
    X = np.repeat(X, 4, axis=2)  # (10, 4, 4, 1), image i filled with 25 * i
    ds = cnn.ArrayBatches(X, np.arange(10), 4, shuffle=True, seed=0)
    assert len(ds) == 3
    first = [ds[i] for i in range(len(ds))]
    assert [len(b[1]) for b in first] == [4, 4, 2]
    for xb, yb in first:  # labels stay with their images, pixels scaled to [0, 1]
        assert xb.dtype == np.float32
        np.testing.assert_allclose(xb[:, 0, 0, 0], yb * 25 / 255, rtol=1e-6)
    assert sorted(np.concatenate([b[1] for b in first])) == list(range(10))
    ds.on_epoch_end()
    second = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(second) == list(range(10))
    assert [list(b[1]) for b in first] != [list(ds[i][1]) for i in range(len(ds))]
    flip = keras.layers.RandomFlip("horizontal", seed=0)
    Xg = np.tile(np.arange(4, dtype=np.uint8)[None, None, :, None], (64, 4, 1, 1))
    xb = cnn.ArrayBatches(Xg, None, 64, augment_layer=flip)[0]
    flipped = xb[:, 0, 0, 0] > xb[:, 0, 3, 0]
    assert 0 < flipped.sum() < 64  # some images mirrored, not all


def test_time_to_accuracy():
    hist = {"val_accuracy": [0.5, 0.8, 0.95, 0.99]}
    assert cnn.time_to_accuracy(hist, [2.0, 1.0, 1.0, 1.0], 0.9) == pytest.approx(4.0)
    assert cnn.time_to_accuracy(hist, [2.0, 1.0, 1.0, 1.0], 0.999) is None


def _tiny(n=64):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (n, 12, 12, 1)).astype(np.uint8), rng.integers(0, 2, n)


def test_time_budget_stops_training():
    X, y = _tiny()
    est = cnn.KerasClassifier(
        model="simple_convnet", epochs=50, batch_size=8, max_time_s=0.0, random_state=0
    ).fit(X, y)
    assert est.stopped_by_ == "time_budget"
    assert len(est.history_["loss"]) == 1 and len(est.history_["val_loss"]) == 1
    if keras.backend.backend() == "tensorflow":  # checked per batch, asynchronously
        assert 1 <= est.epoch_steps_[0] <= 3


def test_early_stopping_and_schedule_with_augmentation():
    X, y = _tiny()  # random labels: val loss cannot improve for long
    est = cnn.KerasClassifier(
        model="simple_convnet",
        epochs=30,
        batch_size=16,
        learning_rate=0.05,
        optimizer="sgd",
        lr_schedule="one_cycle",
        early_stopping=1,
        augment="translate",
        validation_split=0.25,
        random_state=0,
    ).fit(X, y)
    assert est.stopped_by_ == "early_stopping"
    assert len(est.history_["loss"]) < 30
    assert est.predict(X[:3]).shape == (3,)


def test_validation_data_and_adamw():
    X, y = _tiny()
    est = cnn.KerasClassifier(
        model="simple_convnet", epochs=1, batch_size=16, optimizer="adamw", random_state=0
    ).fit(X, y, validation_data=(X[:10], y[:10]))
    assert len(est.history_["val_accuracy"]) == 1
    with pytest.raises(ValueError, match="optimizer"):
        cnn.KerasClassifier(model="simple_convnet", epochs=1, optimizer="lion").fit(X, y)


# ------------------------------------------------------------------ studies
def test_ablation_configs_flip_one_switch():
    cfgs = cnn.ablation_configs()
    base = cfgs["baseline"]["model_params"]
    assert list(cfgs)[0] == "baseline" and cfgs["augment"]["augment"] == "flip_translate"
    for name, cfg in cfgs.items():
        diff = {k for k in base if cfg["model_params"][k] != base[k]}
        assert len(diff) == (0 if name in ("baseline", "augment") else 1), name


def test_run_ablation_and_plots(tmp_path):
    X, y = _tiny(48)
    cfgs = cnn.ablation_configs({"filters": (4,), "convs_per_block": 1})
    cfgs = {k: cfgs[k] for k in ("baseline", "no_batch_norm")}
    rows = cnn.run_ablation(
        X, y, X[:16], y[:16], cfgs, epochs=2, batch_size=16, validation_split=0.25, random_state=0
    )
    assert [r["config"] for r in rows] == ["baseline", "no_batch_norm"]
    assert all(r["gap"] == pytest.approx(r["train_accuracy"] - r["test_accuracy"]) for r in rows)
    cnn.plot_ablation(rows).savefig(tmp_path / "ablation.png")
    est = cnn.KerasClassifier(model="simple_convnet", epochs=2, batch_size=16, random_state=0)
    est.fit(X, y)
    fig = cnn.plot_learning_curves(est.history_, est.epoch_times_s_, title="t")
    fig.savefig(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_one_cycle_replans_to_time_budget():
    sched = cnn.OneCycle(0.1, 1000)
    before = float(sched(500))
    sched.set_total_steps(100)
    assert float(sched(500)) < before and float(sched(100)) == pytest.approx(0.1 / 25 / 1e4)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow-only re-planning")
def test_fit_schedule_to_budget_stops_with_annealed_lr():
    X, y = _tiny(64)
    est = cnn.KerasClassifier(
        model="simple_convnet",
        epochs=200,
        batch_size=16,
        lr_schedule="one_cycle",
        learning_rate=1e-2,
        max_time_s=2.5,
        random_state=0,
    ).fit(X, y)
    n = len(est.history_["loss"])
    assert 1 <= n < 200 and est.stopped_by_ == "time_budget"
    assert sum(est.epoch_wall_s_) < 4.0
    lr = float(est.model_.optimizer.learning_rate)
    assert lr < 1e-3  # the cycle was re-planned and annealed, not cut off near its peak
