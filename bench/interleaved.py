"""The same training steps of several runners, each in its own process, step by step in rotating order.

Runs one after another (``bench.train_speed.side_by_side``) drift with the machine: on this project's
2-core CPU one runner's runs spread by 25% and two sittings gave 1.09 and 0.95 for the same ratio.
Here every runner lives in a process of its own (as its users run it: its own allocator settings,
lit-gpt2's ``keep_freed_memory`` included, and its own threads) and they take turns: step ``i`` on the
same batch in each, one process at a time, within a few hundred milliseconds of each other, so a slow
spell slows all of them alike; the ratio is the median over steps of the paired step times. Each
runner keeps its own model, optimizer and schedule (``bench.runners.RawStep``), so the final losses
compare as in the separate runs. lit-gpt2's step runs without Lightning's Trainer (``ours-loop``;
``python -m bench.vs_nanogpt --also ours-loop`` measures what the Trainer adds).
"""

import multiprocessing
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict
from multiprocessing.connection import Connection

import torch

from bench.common import SIZES, BenchConfig, same_final_loss
from bench.runners import RawStep, epochs, nanogpt_step, ours_step
from lit_gpt2.data.datamodule import MovieScriptsDataModule

STEPS: dict[str, Callable[[BenchConfig], tuple[RawStep, MovieScriptsDataModule]]] = {
    "ours-loop": ours_step,
    "nanogpt": lambda cfg: nanogpt_step(cfg, bias=False),
    "nanogpt-bias": lambda cfg: nanogpt_step(cfg, bias=True),
}


def interleaved(
    cfg: BenchConfig, runners: tuple[str, ...] = tuple(STEPS), same_loss: tuple[str, ...] = (), sittings: int = 1
) -> dict:
    """Median step time and tokens/s of each runner, ``<first>/<runner>`` as the median of paired
    step-time ratios, and whether the final losses (mean of the last five) of ``same_loss`` agree.

    ``sittings``: so many sets of fresh processes one after another, the paired steps of all pooled
    (each sitting's ratios reported too): a process's own luck (where its memory lands, an allocator's
    path-dependent thresholds) moved a ratio by 3% between sittings here.
    """
    started = time.perf_counter()
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    per_sitting, final = [], {}
    for _ in range(sittings):
        took, losses = _sitting(cfg, runners)
        timed = {name: values[cfg.warmup :] for name, values in took.items()}
        per_sitting.append(_paired_ratios(timed, runners))
        for name in runners:
            seconds[name] += timed[name]
            # Every sitting trains the same steps from the same weights: the first one's losses stand.
            final.setdefault(name, statistics.fmean(losses[name][-5:]))
    tokens = cfg.batch_size * cfg.block_size
    median = {name: statistics.median(values) for name, values in seconds.items()}
    return {
        "config": asdict(cfg),
        "model": SIZES[cfg.size],
        "summary": {
            name: {"step_ms": median[name] * 1e3, "tokens_per_second": tokens / median[name], "final_loss": final[name]}
            for name in runners
        },
        "ratios": _paired_ratios(seconds, runners),
        "ratios_per_sitting": per_sitting,
        "same_final_loss": same_final_loss(cfg, [final[name] for name in same_loss or runners]),
        "wall_seconds": time.perf_counter() - started,
    }


def _paired_ratios(seconds: dict[str, list[float]], runners: tuple[str, ...]) -> dict[str, float]:
    # The faster runner has the shorter step: ours/other speed is other's time over ours, step by step.
    first = runners[0]
    return {
        f"{first}/{name}": statistics.median(b / a for a, b in zip(seconds[first], seconds[name]))
        for name in runners[1:]
    }


def _sitting(cfg: BenchConfig, runners: tuple[str, ...]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Every step's seconds and loss of each runner, its process spawned afresh for this sitting."""
    spawn = multiprocessing.get_context("spawn")  # fresh processes: no allocator or thread state inherited
    pipes: dict[str, Connection] = {}
    workers = []
    for name in runners:
        ours, theirs = spawn.Pipe()
        worker = spawn.Process(target=_take_turns, args=(name, cfg, theirs), daemon=True)
        worker.start()
        pipes[name] = ours
        workers.append(worker)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    losses: dict[str, list[float]] = {name: [] for name in runners}
    try:
        for name in runners:  # every runner built before the first step
            if pipes[name].recv() != "ready":
                raise SystemExit(f"bench: the {name} runner failed to start")
        for index in range(cfg.steps):
            shift = index % len(runners)  # rotate, so no runner always goes first
            for name in runners[shift:] + runners[:shift]:
                pipes[name].send(index)  # one process steps while the others wait for their turn
                took, loss = pipes[name].recv()
                seconds[name].append(took)
                losses[name].append(loss)
    except EOFError:
        raise SystemExit("bench: a runner's process ended before its last step (its error is above)") from None
    finally:
        for worker in workers:
            worker.join(timeout=30)
    return seconds, losses


def _take_turns(name: str, cfg: BenchConfig, pipe: Connection) -> None:
    """A runner's process: build it, then take each step when told to, and report its time and loss."""
    step, data = STEPS[name](cfg)
    pipe.send("ready")
    for index, batch in zip(range(cfg.steps), epochs(data.train_dataloader())):
        if pipe.recv() != index:
            raise RuntimeError(f"{name}: steps out of order")
        if cfg.device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = step(batch)  # reads the loss back: the step has finished
        pipe.send((time.perf_counter() - start, loss))


def markdown(report: dict) -> str:
    cfg = report["config"]
    timed = cfg["steps"] - cfg["warmup"]
    lines = [
        f"Model {cfg['size']} {report['model']}, batch {cfg['batch_size']} x {report['model']['block_size']} tokens, "
        f"{cfg['precision']} on {cfg['device']}; every runner in its own process, taking turns step by step in "
        f"rotating order on the same batches, {timed} steps timed after {cfg['warmup']} in each of "
        f"{len(report['ratios_per_sitting'])} sitting(s) of fresh processes.",
        "",
        "| runner | median step (ms) | tokens/s | final loss |",
        "|---|---|---|---|",
    ]
    for name, s in report["summary"].items():
        lines.append(f"| {name} | {s['step_ms']:.2f} | {s['tokens_per_second']:,.0f} | {s['final_loss']:.4f} |")
    lines += ["", " · ".join(f"{k} = {v:.3f} (median of paired steps)" for k, v in report["ratios"].items())]
    if len(report["ratios_per_sitting"]) > 1:
        sittings = "; ".join(", ".join(f"{v:.3f}" for v in r.values()) for r in report["ratios_per_sitting"])
        lines.append(f"The same ratios in each of {len(report['ratios_per_sitting'])} sittings: {sittings}.")
    lines.append(f"Same final loss across runners: {report['same_final_loss']}.")
    return "\n".join(lines) + "\n"
