"""Where a whole ``lit-gpt2 fit`` spends its wall time, from process start to export.

    python -m bench.fit_timeline [--out bench/results/fit_timeline_quickstart_cpu.md] [-- FIT ARGS ...]

Runs ``lit-gpt2 fit --config configs/quickstart.yaml`` (or the fit arguments after ``--``) in this
process, with clocks around each phase: imports; fitting the tokenizer (cached after the first run);
building the token cache (``prepare_data``); the optimizer steps (from each training batch's start to
its end, less other callbacks' hooks within it); the validation loops; each callback's hooks (the
watching callbacks' rounds, checkpoint writes, the progress bar, the throughput monitor, the export at
the end); Python's garbage collections, wherever they run; and what is left. The goal it checks:
everything outside the optimizer steps at most 15% of the wall time.
"""

import time

STARTED = time.perf_counter()  # before any heavy import: the imports are the first phase

import argparse  # noqa: E402
import contextlib  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import lightning as L  # noqa: E402

import lit_gpt2.cli  # noqa: E402
from lit_gpt2.data.corpus import Corpus  # noqa: E402
from lit_gpt2.data.datamodule import MovieScriptsDataModule  # noqa: E402

IMPORTED = time.perf_counter()
SECONDS: dict[str, float] = defaultdict(float)
CLOCK_PATH = "bench.fit_timeline.PhaseClock"


class StepWindow:
    """Whether a training batch is running, and how long other callbacks' hooks took within it: a
    callback's hook at a batch's start or end (the progress bar, the throughput monitor) is not the
    optimizer's step, wherever Lightning's order puts it relative to ``PhaseClock``'s."""

    open = False
    hooks = 0.0
    depth = 0  # hooks timed inside hooks (a checkpoint write inside ModelCheckpoint's) count once


def timed(owner: object, name: str, phase: str) -> None:
    """Wrap ``owner.name`` so that its time adds to ``phase`` (for the object's life: callbacks and the
    strategy's checkpoint writer belong to one run)."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        StepWindow.depth += 1
        try:
            return original(*args, **kwargs)
        finally:
            StepWindow.depth -= 1
            elapsed = time.perf_counter() - start
            SECONDS[phase] += elapsed
            if StepWindow.open and StepWindow.depth == 0:
                StepWindow.hooks += elapsed

    setattr(owner, name, wrapper)


class PhaseClock(L.Callback):
    """Times the optimizer steps and validation loops, and wraps every other callback's hooks."""

    def __init__(self) -> None:
        self._step_start = 0.0
        self._validation_start = 0.0

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for callback in trainer.callbacks:
            if callback is self:
                continue
            phase = f"callback {type(callback).__name__}"
            for name in dir(type(callback)):
                if (name.startswith("on_") or name in ("setup", "teardown")) and name in vars(L.Callback):
                    timed(callback, name, phase)
        timed(trainer.strategy.checkpoint_io, "save_checkpoint", "checkpoint writes (inside ModelCheckpoint)")

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._step_start = time.perf_counter()
        StepWindow.open, StepWindow.hooks = True, 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        SECONDS[STEPS] += time.perf_counter() - self._step_start - StepWindow.hooks
        StepWindow.open = False

    def on_validation_start(self, trainer, pl_module) -> None:
        self._validation_start = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        SECONDS[VALIDATION] += time.perf_counter() - self._validation_start


TOKENIZER, CACHE = "tokenizer fit or read", "token cache build or read"
STEPS, VALIDATION = "optimizer steps", "validation"
GC = "garbage collection (in every phase)"
GC_IN_BATCHES = "garbage collection within training batches (steps and their hooks)"


class GarbageClock:
    """Python's cyclic garbage collections, timed through ``gc.callbacks``: they run wherever objects
    pile up (a chart's thousands of artists, a step's tensors), and each full one walks every object
    alive, so their cost grows with everything the run holds."""

    def __init__(self) -> None:
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        elapsed = time.perf_counter() - self._start
        SECONDS[GC] += elapsed
        if StepWindow.open:
            SECONDS[GC_IN_BATCHES] += elapsed

    def __enter__(self) -> "GarbageClock":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run(fit_args: list[str], started: float, imported: float) -> dict:
    with contextlib.ExitStack() as restore:  # the two classes are wrapped for this run only
        for owner, name, phase in (
            (Corpus, "fitted_tokenizer", TOKENIZER),
            (MovieScriptsDataModule, "prepare_data", CACHE),
        ):
            restore.callback(setattr, owner, name, vars(owner)[name])
            timed(owner, name, phase)
        SECONDS.clear()
        with GarbageClock():
            lit_gpt2.cli.main(["fit", *fit_args, f"--trainer.callbacks+={CLOCK_PATH}"])
    wall = time.perf_counter() - started
    phases = {"imports": imported - started, **{k: SECONDS.pop(k, 0.0) for k in (TOKENIZER, CACHE, STEPS, VALIDATION)}}
    phases["export (HFExportCallback)"] = SECONDS.pop("callback HFExportCallback", 0.0)
    phases["everything else (CLI, model, loop, hooks)"] = wall - sum(phases.values())
    return {
        "wall_seconds": wall,
        "phases": phases,
        "inside": dict(sorted(SECONDS.items(), key=lambda item: -item[1])),  # overlapping the phases above
        "outside_steps_share": 1 - phases[STEPS] / wall,
    }


def markdown(report: dict, fit_args: list[str]) -> str:
    wall = report["wall_seconds"]
    lines = [
        f"`lit-gpt2 fit {' '.join(fit_args)}`, in one process from its start to the export.",
        "",
        "| phase | seconds | share of wall time |",
        "|---|---|---|",
    ]
    lines += [f"| {phase} | {seconds:,.1f} | {seconds / wall:.1%} |" for phase, seconds in report["phases"].items()]
    lines += [f"| **wall time** | {wall:,.1f} | 100% |", "", "Inside those phases (a callback's hooks run inside"]
    lines += ["the validation loop or after it; checkpoint writes inside ModelCheckpoint's hooks):", ""]
    lines += ["| within | seconds | share of wall time |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:,.1f} | {seconds / wall:.1%} |" for name, seconds in report["inside"].items()]
    share = report["outside_steps_share"]
    lines += ["", f"Outside the optimizer steps: {share:.1%} of the wall time (goal: at most 15%)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None, started: float = STARTED, imported: float = IMPORTED) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.fit_timeline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (and .json beside it)")
    parser.add_argument("fit_args", nargs="*", default=["--config", "configs/quickstart.yaml"])
    args = parser.parse_args(argv)
    report = run(args.fit_args, started, imported)
    table = markdown(report, args.fit_args)
    print(table)
    if args.out:
        args.out.write_text(table)
        args.out.with_suffix(".json").write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    # The CLI instantiates PhaseClock from bench.fit_timeline: run there, so that both share SECONDS.
    from bench.fit_timeline import main as main_of_the_module

    main_of_the_module(started=STARTED, imported=IMPORTED)
