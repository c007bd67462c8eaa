"""Wall time of the full random search (50 combinations x 5 folds x 100 epochs) on CPU.

MER2024-sized: 5,030 labelled clips, three 1024-d features (random values and labels:
the cost does not depend on them). Three ways to train, timed on the same data:

* ``loop``: the straightforward one-model-at-a-time loop (``merlib.fusion.training.train_fold``,
  an ``nn.Module`` per fold, torch's Adam), folds one after another;
* ``stacked``: what ``search_fusion`` does, one job per combination with its 5 folds
  trained together as one stacked model (``merlib.fusion.stacked.train_stacked``);
* ``stacked-by-width``: the combinations sharing a ``hidden_dim`` trained together
  (``M = 5 x combinations`` models in one stack), all of them or ``--per-job`` at a time
  (``search.combinations_per_job``).

A run's cost depends on ``hidden_dim`` only (dropout and lr change no arithmetic), and
each epoch costs the same, so each way is timed for ``--epochs`` epochs per width and
the full search is extrapolated: ``sum over widths of n_combinations(width) x
seconds_per_epoch(width) x 100``.

Both wall and CPU time (``time.process_time``) are printed. On a shared, overloaded
machine the wall time measures the other users; the CPU time of a 1-thread run does not
(with 2 threads, OpenMP's spinning inflates it under contention). ``search_fusion`` jobs
have ``threads: 1``, so on 2 cores Snakemake runs two at once: the full search's wall
time on an idle 2-core machine is about the 1-thread CPU total / 2, which is printed too.

For the stacked ways each width also prints the training loop's achieved GFLOP/s (the
FLOPs of the stacked model's Linears counted analytically: 2*M*B*in*out per forward,
twice that for the backward, plus the validation forwards) beside the measured peak of
the same matmuls (``torch.baddbmm`` of the same (M, 32, in) x (M, in, out) shapes timed
alone, in the same run), each per second of wall time and per second of this process's
CPU time (on a loaded machine read the CPU line: both sides are then measured on the CPU
time this process got), and ``--profile`` adds where one epoch's time goes
(``torch.profiler``: matmuls, indexing/data movement, random draws, other element-wise
ops incl. Adam, and the rest: Python and dispatch overhead outside any op).
Usage::

    nice .venv/bin/python bench/search_timing.py --threads 1 --measure-clips 503
    nice .venv/bin/python bench/search_timing.py --threads 1 --measure-clips 503 \
        --ways stacked,stacked-by-width --per-job 4 --profile
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow_scripts"))

from merlib import search
from merlib.fusion import stacked, training
from merlib.fusion.params import FusionParams

BUCKETS = {
    "matmul": {"aten::baddbmm", "aten::bmm", "aten::mm", "aten::addmm", "aten::matmul"},
    "indexing / data movement": {
        "aten::index", "aten::index_select", "aten::gather", "aten::copy_", "aten::cat",
        "aten::stack", "aten::where", "aten::masked_fill", "aten::index_put_", "aten::to",
        "aten::_to_copy", "aten::clone", "aten::zeros", "aten::zero_", "aten::fill_",
    },
    "random draws": {"aten::rand", "aten::randperm", "aten::uniform_"},
}  # fmt: skip


def linear_shapes(dims, hidden, n_classes=6):
    """(in, out) of every Linear of the attention fusion (merlib.fusion.model's layout)."""
    shapes = []
    for d in dims:
        shapes += [(d, hidden), (hidden, hidden), (hidden, hidden)]
    shapes += [(hidden * len(dims), hidden), (hidden, hidden), (hidden, hidden)]
    return shapes + [(hidden, len(dims)), (hidden, n_classes)]


def epoch_flops(shapes, train_rows, val_rows):
    """Analytic FLOPs of one epoch: forward 2*rows*in*out per Linear (rows summed over the
    stacked models), backward twice that, plus one validation forward."""
    per_row = sum(2 * i * o for i, o in shapes)
    return 3 * per_row * train_rows + per_row * val_rows


def matmul_peak(shapes, models, batch=32, repeats=20):
    """GFLOP/s of torch.baddbmm on exactly the training step's forward shapes, alone:
    (wall, CPU) -- per second of wall time and per second of this process's CPU time."""
    g = torch.Generator().manual_seed(0)
    ops = [
        (torch.randn(models, 1, o, generator=g), torch.randn(models, batch, i, generator=g),
         torch.randn(models, i, o, generator=g))
        for i, o in shapes
    ]  # fmt: skip
    for bias, x, w in ops:
        torch.baddbmm(bias, x, w)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeats):
        for bias, x, w in ops:
            torch.baddbmm(bias, x, w)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    flops = repeats * sum(2 * models * batch * i * o for i, o in shapes)
    return flops / seconds / 1e9, flops / cpu_seconds / 1e9


def profile_epoch(run) -> None:
    """Profile the second epoch of ``run(progress)`` (a 2-epoch train_stacked call): the
    profiler starts at the first epoch's end and stops at the second's, so set-up
    (standardisation, initialisation) and unstacking are left out."""
    from torch.profiler import ProfilerActivity, profile

    class Window:
        def __init__(self):
            self.prof, self.epochs, self.wall = profile(activities=[ProfilerActivity.CPU]), 0, 0.0

        def update(self, n):
            self.epochs += 1
            if self.epochs == 1:
                self.prof.start()
                self.wall = time.perf_counter()
            elif self.epochs == 2:
                self.wall = time.perf_counter() - self.wall
                self.prof.stop()

    window = Window()
    run(window)
    prof, wall = window.prof, window.wall
    spent = collections.Counter()
    for event in prof.key_averages():
        bucket = next((b for b, names in BUCKETS.items() if event.key in names), "other ops")
        if event.key.startswith("aten::") or event.key.startswith("autograd"):
            spent[bucket] += event.self_cpu_time_total / 1e6
    in_ops = sum(spent.values())
    print(f"  profile of one stacked epoch, hidden 128 ({wall:.2f} s wall under the profiler):")
    for bucket, seconds in spent.most_common():
        print(f"    {bucket:>26}: {seconds:7.2f} s ({100 * seconds / wall:5.1f} %)")
    rest = max(0.0, wall - in_ops)
    print(f"    {'Python/dispatch (no op)':>26}: {rest:7.2f} s ({100 * rest / wall:5.1f} %)")


class EpochClock:
    """train_stacked's progress hook: wall and CPU time at the end of every epoch, so an
    epoch is timed without the set-up (standardisation, initialisation, unstacking)."""

    def __init__(self):
        self.marks = [(time.perf_counter(), time.process_time())]

    def update(self, n):
        self.marks.append((time.perf_counter(), time.process_time()))

    def per_epoch(self):
        """(wall, CPU) seconds of one epoch: between the first and last epoch's ends when
        two or more ran (set-up excluded), else of the whole call."""
        first = self.marks[1] if len(self.marks) > 2 else self.marks[0]
        last, epochs = self.marks[-1], max(1, len(self.marks) - 2)
        return (last[0] - first[0]) / epochs, (last[1] - first[1]) / epochs


SPACE = {"hidden_dim": [64, 128, 256], "dropout": [0.2, 0.3, 0.4, 0.5], "lr": [1e-3, 1e-4]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=5030)
    ap.add_argument(
        "--measure-clips",
        type=int,
        default=None,
        help="time on this many clips and scale by clips / measure-clips (an epoch's "
        "steps and validation are linear in the clips); default: all",
    )
    ap.add_argument("--dim", type=int, default=1024)
    ap.add_argument("--features", type=int, default=3)
    ap.add_argument("--combinations", type=int, default=50)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--full-epochs", type=int, default=100)
    ap.add_argument(
        "--epochs",
        type=int,
        default=3,
        help="epochs actually run per run; the stacked ways time those after the first",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--per-job",
        type=int,
        default=0,
        help="stacked-by-width: combinations per stack (search.combinations_per_job); "
        "default: all of a width",
    )
    ap.add_argument("--ways", default="loop,stacked,stacked-by-width")
    ap.add_argument("--profile", action="store_true", help="profile one stacked epoch")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    measured = args.measure_clips or args.clips
    scale = args.clips / measured
    rng = np.random.default_rng(0)
    arrays = [
        rng.normal(size=(measured, args.dim)).astype(np.float32) for _ in range(args.features)
    ]
    mask = np.ones((measured, args.features), dtype=bool)
    y = rng.integers(0, 6, size=measured)
    splits = training.cv_splits(y, args.folds, seed=2024)
    combos = search.sample_combinations(SPACE, args.combinations, seed=2024)
    per_width = collections.Counter(c["hidden_dim"] for c in combos)
    print(
        f"{args.clips} clips, {args.features} x {args.dim}-d features, {args.combinations} "
        f"combinations x {args.folds} folds x {args.full_epochs} epochs, {args.threads} "
        f"threads; combinations per hidden_dim: {dict(sorted(per_width.items()))}; "
        f"timing {args.epochs} epochs per run on {measured} clips and extrapolating"
    )

    def specs(n_combos):
        return [
            stacked.ModelSpec(tr, va, dropout=0.3, lr=1e-3, seed=k)
            for _ in range(n_combos)
            for k, (tr, va) in enumerate(splits)
        ]

    def run_stacked(width, n_combos):
        clock = EpochClock()
        stacked.train_stacked(
            arrays, mask, y, specs(n_combos), hidden_dim=width, attention="raw",
            epochs=args.epochs, batch_size=32, weight_decay=1e-5, progress=clock,
        )  # fmt: skip
        return clock.per_epoch()

    def run_loop(width):
        X = {f"f{i}": a for i, a in enumerate(arrays)}
        params = FusionParams(hidden_dim=width, epochs=args.epochs, folds=args.folds)
        for k, (tr, va) in enumerate(splits):
            training.train_fold(X, mask, y, tr, va, params, k)

    totals, cpu_total = {}, {}
    stacked.train_stacked(  # warm up torch (lazy imports, allocator) outside the timings
        arrays, mask, y, specs(1)[:1], hidden_dim=8, attention="raw", epochs=1,
        batch_size=32, weight_decay=1e-5,
    )  # fmt: skip
    for way in args.ways.split(","):
        total = 0.0
        for width, n in sorted(per_width.items()):
            start, cpu = time.perf_counter(), time.process_time()
            per_stack = min(n, args.per_job or n) if way == "stacked-by-width" else 1
            if way == "loop":
                run_loop(width)
                runs = n
                epoch = ((time.perf_counter() - start) / args.epochs,
                         (time.process_time() - cpu) / args.epochs)  # fmt: skip
            elif way == "stacked":
                epoch = run_stacked(width, 1)
                runs = n
            elif way == "stacked-by-width":
                epoch = run_stacked(width, per_stack)
                runs = -(-n // per_stack)  # the last stack may be smaller: an upper bound
            else:
                raise SystemExit(f"unknown way {way!r}")
            per_epoch, cpu_per_epoch = epoch[0] * scale, epoch[1] * scale
            seconds = per_epoch * args.full_epochs * runs
            if way != "loop":
                models = args.folds * per_stack
                shapes = linear_shapes([args.dim] * args.features, width)
                rows = sum(len(tr) for tr, _ in splits) * models // args.folds
                flops = epoch_flops(shapes, rows, measured * models // args.folds)
                peak, cpu_peak = matmul_peak(shapes, models)
                for clock, seconds_per_epoch, top in (
                    ("wall", per_epoch, peak),
                    ("CPU", cpu_per_epoch, cpu_peak),
                ):
                    achieved = flops * scale / seconds_per_epoch / 1e9
                    print(
                        f"{way:>17}  hidden {width:>3}: {achieved:6.1f} GFLOP/s achieved vs "
                        f"{top:6.1f} GFLOP/s baddbmm peak of the same shapes "
                        f"({100 * achieved / top:4.1f} %), M={models}, per {clock} second"
                    )
            total += seconds
            cpu_total[way] = cpu_total.get(way, 0.0) + cpu_per_epoch * args.full_epochs * runs
            print(
                f"{way:>17}  hidden {width:>3}: {per_epoch:7.2f} s per epoch "
                f"(CPU {cpu_per_epoch:7.2f} s) "
                f"({per_stack} combination(s) per stack, "
                f"{args.folds} folds) -> {seconds / 3600:6.2f} h for its {n} combinations"
            )
        totals[way] = total
        if args.profile and way != "loop":
            n_combos = 1 if way == "stacked" else min(per_width[128], args.per_job or 10**9)
            profile_epoch(lambda progress, n_combos=n_combos: stacked.train_stacked(
                arrays, mask, y, specs(n_combos), hidden_dim=128, attention="raw",
                epochs=2, batch_size=32, weight_decay=1e-5, progress=progress,
            ))  # fmt: skip
        print(
            f"{way:>17}  full search: {total / 3600:.2f} h wall, "
            f"{cpu_total[way] / 3600:.2f} h CPU (extrapolated); as {args.threads}-thread "
            f"jobs on 2 cores: about {cpu_total[way] / 2 / 3600:.2f} h"
        )
    if "loop" in totals:
        for way, total in totals.items():
            print(
                f"{way:>17}  speed-up over loop: {totals['loop'] / total:.2f}x wall, "
                f"{cpu_total['loop'] / cpu_total[way]:.2f}x CPU"
            )
    print(f"load average during the run: {os.getloadavg()}")


if __name__ == "__main__":
    main()
