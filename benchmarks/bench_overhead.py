"""Harness overhead: the runner's CNN training against a plain Keras script, side by side.

Trains ``simple_convnet`` on MNIST through the runner (``run_cell``, which
builds the estimator, feeds the data and times ``fit``) and through the plain
keras-io script below, alternating in one process, and reports the median
ratio of fit times. The floor is ratio <= 1.05.

Run::

    python -m benchmarks.bench_overhead --data-dir ../shared/datasets --epochs 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def plain_keras_fit(x_train, y_train, epochs: int, batch_size: int = 128, seed: int = 0) -> float:
    """The plain script: keras-io's MNIST convnet, timed around ``model.fit`` alone."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    x = x_train.astype("float32") / 255.0
    model = keras.Sequential(
        [
            keras.Input(shape=x.shape[1:]),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=0)
    return time.perf_counter() - t0


def runner_fit(dataset: str, data_dir: str | None, epochs: int, batch_size: int = 128) -> dict:
    """The same training through the runner's cell (the row's ``fit_s``).

    With a work dir, as the runner gives every cell: the epoch checkpoints
    (and the data fingerprint they need) are part of the measured cost.
    """
    import tempfile

    from benchmarks.cell import CellConfig, run_cell

    with tempfile.TemporaryDirectory(prefix="cvbench-overhead-") as work:
        row = run_cell(
            CellConfig(
                dataset=dataset,
                method="simple_convnet",
                params={"epochs": epochs, "batch_size": batch_size},
                data_dir=data_dir,
                latency_repeats=5,
                train_eval_max=1000,
                work_dir=work,
            )
        )
    if row["error"]:
        raise RuntimeError(row["error"])
    return row


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_overhead", description=__doc__.split("\n")[0]
    )
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--data-dir", default=os.environ.get("CVBENCH_DATA_DIR"))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--out", type=Path, default=Path("results/overhead"))
    args = p.parse_args(argv)

    import keras

    from benchmarks.datasets import load_dataset

    data = load_dataset(args.dataset, data_dir=args.data_dir)
    plain, runner = [], []
    for i in range(args.repeats):
        keras.backend.clear_session()
        plain.append(plain_keras_fit(data.x_train, data.y_train, args.epochs, seed=i))
        keras.backend.clear_session()
        row = runner_fit(args.dataset, args.data_dir, args.epochs)
        runner.append(row["fit_s"])
        print(
            f"repeat {i + 1}/{args.repeats}: plain {plain[-1]:.2f} s, runner {runner[-1]:.2f} s, "
            f"ratio {runner[-1] / plain[-1]:.3f} (runner test acc {100 * row['accuracy']:.2f}%)",
            flush=True,
        )
    ratios = [r / q for r, q in zip(runner, plain, strict=True)]
    result = {
        "dataset": data.title,
        "data_source": data.source,
        "n_train": len(data.y_train),
        "epochs": args.epochs,
        "repeats": args.repeats,
        "plain_fit_s": plain,
        "runner_fit_s": runner,
        "median_plain_fit_s": statistics.median(plain),
        "median_runner_fit_s": statistics.median(runner),
        "median_ratio": statistics.median(ratios),
        "ratios": ratios,
        "keras_backend": keras.backend.backend(),
        "command": "python -m benchmarks.bench_overhead "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "overhead.json").write_text(json.dumps(result, indent=2))
    print(
        f"median fit: plain {result['median_plain_fit_s']:.2f} s, runner "
        f"{result['median_runner_fit_s']:.2f} s; median ratio runner/plain = "
        f"{result['median_ratio']:.3f} (floor <= 1.05)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
