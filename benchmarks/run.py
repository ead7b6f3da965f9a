"""The cvbench runner: ``python -m benchmarks.run``.

Trains and evaluates every (dataset, method, seed) cell of a run plan, writes
each row the moment its cell finishes, and renders ``results.csv`` and
``report.md`` under ``--out/<run-id>/``. ``--resume RUN_DIR`` reruns only the
cells without a successful row.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["build_cells", "main"]


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _seeds(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in _csv(value))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--seeds takes comma-separated integers like 0,1,2, got {value!r}"
        ) from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n <= 0:
        raise argparse.ArgumentTypeError(f"needs a positive integer, got {value!r}")
    return n


def make_parser() -> argparse.ArgumentParser:
    from benchmarks.profiles import PROFILES

    p = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Benchmark classical CV features and Keras CNNs on the same splits.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "profiles:\n"
            + "\n".join(f"  {k:9s} {v.description}" for k, v in PROFILES.items())
            + "\n\nWith no arguments: the quick profile on bundled data (no network)."
        ),
    )
    p.add_argument("--profile", default="quick", choices=sorted(PROFILES))
    p.add_argument("--config", type=Path, help="TOML grid file ([run] table, [[params]] rules)")
    p.add_argument(
        "--datasets",
        type=_csv,
        help="comma-separated: mnist, cifar10, fashion_mnist, digits, mnist_sample, "
        "cifar10_sample, npz:PATH, folder:PATH",
    )
    p.add_argument(
        "--methods",
        type=_csv,
        help="comma-separated, wildcards allowed: raw+logreg, 'hog+*', simple_convnet",
    )
    p.add_argument("--seeds", type=_seeds, help="comma-separated integers (default 0)")
    p.add_argument("--n-train", type=_positive, help="stratified training subset size")
    p.add_argument("--n-test", type=_positive, help="stratified test subset size")
    p.add_argument("--data-dir", help="directory with dataset files (default $CVBENCH_DATA_DIR)")
    p.add_argument(
        "--cache-dir",
        help="feature and decoded-data cache (default $CVBENCH_CACHE_DIR or ~/.cache/cvbench)",
    )
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--out", type=Path, default=Path("results"), help="parent of the run directory")
    p.add_argument("--run-id", help="name of the run directory (default: UTC time and profile)")
    p.add_argument("--resume", type=Path, metavar="RUN_DIR", help="finish an earlier run")
    p.add_argument(
        "--executor",
        default="process",
        choices=["process", "inline"],
        help="process: each cell in a fresh process (default); inline: in this process",
    )
    p.add_argument(
        "--list",
        nargs="?",
        const="*",
        metavar="PATTERN",
        help="list registered features, classifiers, models, datasets and methods, then exit",
    )
    p.add_argument(
        "--import",
        dest="imports",
        type=_csv,
        action="extend",
        default=[],
        metavar="MODULE",
        help="import MODULE (comma-separated, repeatable) first: registers your own "
        "features, classifiers or models in every cell process",
    )
    p.add_argument(
        "--cv-dnn",
        action="store_true",
        default=None,
        help="also export each trained CNN to ONNX and measure cv2.dnn inference",
    )
    p.add_argument("--dry-run", action="store_true", help="print the cells and exit")
    return p


def _default_cache_dir() -> str:
    return os.environ.get("CVBENCH_CACHE_DIR") or str(Path.home() / ".cache" / "cvbench")


def print_listing(pattern: str, file=None) -> None:
    file = file or sys.stdout
    import fnmatch

    import cnn
    import features
    from benchmarks.classifiers import CLASSIFIERS
    from benchmarks.datasets import DATASETS
    from benchmarks.methods import all_method_names

    for title, registry in (
        ("features", features.FEATURES),
        ("classifiers", CLASSIFIERS),
        ("models", cnn.MODELS),
        ("datasets", DATASETS),
    ):
        names = registry.list(pattern)
        print(f"{title} ({len(names)}):", file=file)
        for name in names:
            print(f"  {name:24s} {registry.get(name).summary}", file=file)
    methods = [m for m in all_method_names() if fnmatch.fnmatchcase(m, pattern)]
    print(f"methods ({len(methods)}): " + ", ".join(methods), file=file)


def build_cells(plan, *, data_dir, cache_dir, run_id, imports=()):
    """Every :class:`CellConfig` of ``plan``, datasets outermost, then methods, then seeds.

    A (dataset, method) whose merged parameters hold ``skip = true`` is left out
    (a config file's way to run a method on some datasets only).
    """
    from benchmarks.cell import CellConfig
    from benchmarks.methods import expand_methods

    methods = expand_methods(plan.methods)
    params = {(d, m): plan.params_for(d, m) for d in plan.datasets for m in methods}
    return [
        CellConfig(
            dataset=dataset,
            method=method,
            seed=seed,
            params={k: v for k, v in params[dataset, method].items() if k != "skip"},
            n_train=plan.n_train,
            n_test=plan.n_test,
            data_dir=data_dir,
            cache_dir=cache_dir,
            run_id=run_id,
            imports=tuple(imports),
            cv_dnn=plan.cv_dnn,
        )
        for dataset in plan.datasets
        for method in methods
        if params[dataset, method].get("skip") is not True
        for seed in plan.seeds
    ]


def _fmt_s(s: float) -> str:
    s = int(round(s))
    return (
        f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = make_parser()
    args = parser.parse_args(argv)
    argv_list = list(sys.argv[1:] if argv is None else argv)

    import importlib

    for module in args.imports:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            parser.error(f"--import {module}: {exc}; is the module on PYTHONPATH?")

    if args.list is not None:
        print_listing(args.list)
        return 0

    import json

    from tqdm import tqdm

    from benchmarks.executors import make_executor
    from benchmarks.profiles import load_config, plan_for_profile, with_overrides
    from benchmarks.report import write_report
    from benchmarks.results import RunDir

    if args.resume:
        meta_path = args.resume / "run.json"
        if not meta_path.is_file():
            parser.error(
                f"--resume {args.resume}: no run.json there; is it a cvbench run directory?"
            )
        meta = json.loads(meta_path.read_text())
        run_dir = RunDir(args.resume)
        from benchmarks.cell import CellConfig

        cells = [CellConfig(**{**c, "imports": tuple(c.get("imports", ()))}) for c in meta["cells"]]
        for module in {m for c in cells for m in c.imports}:
            importlib.import_module(module)
        print(
            f"resuming {args.resume}: {len(run_dir.finished())} of {len(cells)} cells already done"
        )
    else:
        try:
            plan = plan_for_profile(args.profile)
            if args.config:
                plan = load_config(args.config, base=None if "--profile" not in argv_list else plan)
            plan = with_overrides(
                plan,
                datasets=tuple(args.datasets) if args.datasets else None,
                methods=tuple(args.methods) if args.methods else None,
                seeds=args.seeds,
                n_train=args.n_train,
                n_test=args.n_test,
                cv_dnn=args.cv_dnn,
            )
            started = datetime.now(UTC)
            run_id = args.run_id or f"{started:%Y%m%d-%H%M%S}-{plan.profile}"
            data_dir = args.data_dir or os.environ.get("CVBENCH_DATA_DIR") or None
            cache_dir = None if args.no_cache else (args.cache_dir or _default_cache_dir())
            cells = build_cells(
                plan, data_dir=data_dir, cache_dir=cache_dir, run_id=run_id, imports=args.imports
            )
        except (KeyError, ValueError, FileNotFoundError) as exc:
            parser.error(str(exc.args[0] if isinstance(exc, KeyError) else exc))
        if args.dry_run:
            for c in cells:
                print(f"{c.dataset:16s} {c.method:28s} seed={c.seed} params={json.dumps(c.params)}")
            print(f"{len(cells)} cells")
            return 0
        run_dir = RunDir(args.out / run_id)
        if (run_dir.path / "run.json").exists():
            parser.error(
                f"{run_dir.path} already holds a run; pass --resume {run_dir.path} or another --run-id"
            )
        meta = {
            "run_id": run_id,
            "command": "python -m benchmarks.run " + shlex.join(argv_list),
            "profile": plan.profile,
            "description": plan.description,
            "started_utc": f"{started:%Y-%m-%dT%H:%M:%SZ}",
            "plan": asdict(plan),
            "cells": [c.to_dict() for c in cells],
        }
        run_dir.write_json("run.json", meta)
        print(f"profile {plan.profile}: {plan.description}")

    done = run_dir.finished()
    # unfinished cells keep scratch state (a CNN's epoch checkpoints) in their
    # work dir, so that --resume continues a killed cell mid-training
    todo = [
        replace(c, work_dir=str(run_dir.work_dir(c.cell_id)))
        for c in cells
        if c.cell_id not in done
    ]
    print(f"{len(todo)} cells to run, results in {run_dir.path}/", flush=True)
    executor = make_executor(args.executor)
    t0 = time.perf_counter()
    failed = 0
    with tqdm(total=len(todo), unit="cell", dynamic_ncols=True, file=sys.stderr) as bar:
        for i, row in enumerate(executor.map(_announce(todo, bar)), start=1):
            run_dir.add(row)
            write_report(run_dir.path, meta)
            elapsed = time.perf_counter() - t0
            eta = elapsed / i * (len(todo) - i)
            if row.get("error"):
                failed += 1
                status = f"FAILED {row['error'][:160]}"
            else:
                status = f"acc {100 * row['accuracy']:.2f}%  fit {row['fit_s']:.1f}s"
            bar.write(
                f"[{i}/{len(todo)}] {row['dataset']} {row['method']} seed={row['seed']}: {status}"
                f"  (elapsed {_fmt_s(elapsed)}, eta {_fmt_s(eta)})",
                file=sys.stderr,
            )
            bar.update(1)
    if not todo:
        run_dir.write_csv()
    report = write_report(run_dir.path, meta)
    # PNGs under RUN_DIR/plots/, then the report again to embed them; a failing
    # plot prints a warning naming it and never fails the run.
    from benchmarks.plots import write_plots

    if write_plots(run_dir.path):
        report = write_report(run_dir.path, meta)
    print(f"\nwrote {run_dir.csv_path} and {report}")
    print(report.read_text(encoding="utf-8").split("## Reading this report")[0].rstrip())
    return 1 if failed else 0


def _announce(cells, bar):
    for c in cells:
        bar.set_description_str(f"{c.dataset} {c.method} s{c.seed}")
        yield c


if __name__ == "__main__":
    sys.exit(main())
