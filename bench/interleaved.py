"""The same training steps of several runners in one process, step by step in rotating order.

Runs in separate processes (``bench.train_speed.side_by_side``) drift with the machine: on this
project's 2-core CPU one runner's runs spread by 25% and two sittings gave 1.09 and 0.95 for the same
ratio. Here each runner takes step ``i`` on the same batch within a few hundred milliseconds of the
others, so a slow spell slows all of them alike; the ratio is the median over steps of the paired
step times. Each runner keeps its own model, optimizer and schedule (``bench.runners.RawStep``), so
the final losses compare as in the separate runs. lit-gpt2's step runs without Lightning's Trainer
(``ours-loop``; ``python -m bench.vs_nanogpt --also ours-loop`` measures what the Trainer adds).
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict

import torch

from bench.common import SIZES, BenchConfig, same_final_loss
from bench.runners import RawStep, epochs, nanogpt_step, ours_step
from lit_gpt2.data.datamodule import MovieScriptsDataModule

STEPS: dict[str, Callable[[BenchConfig], tuple[RawStep, MovieScriptsDataModule]]] = {
    "ours-loop": ours_step,
    "nanogpt": lambda cfg: nanogpt_step(cfg, bias=False),
    "nanogpt-bias": lambda cfg: nanogpt_step(cfg, bias=True),
}


def interleaved(cfg: BenchConfig, runners: tuple[str, ...] = tuple(STEPS), same_loss: tuple[str, ...] = ()) -> dict:
    """Median step time and tokens/s of each runner, ``<first>/<runner>`` as the median of paired
    step-time ratios, and whether the final losses (mean of the last five) of ``same_loss`` agree."""
    built = {name: STEPS[name](cfg) for name in runners}
    batches = epochs(built[runners[0]][1].train_dataloader())  # every runner's data module has this order
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    losses: dict[str, list[float]] = {name: [] for name in runners}
    started = time.perf_counter()
    for index, batch in zip(range(cfg.steps), batches):
        shift = index % len(runners)  # rotate, so no runner always goes first
        for name in runners[shift:] + runners[:shift]:
            if cfg.device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            losses[name].append(built[name][0](batch))  # reads the loss back: the step has finished
            seconds[name].append(time.perf_counter() - start)
    tokens = cfg.batch_size * cfg.block_size
    timed = {name: values[cfg.warmup :] for name, values in seconds.items()}
    median = {name: statistics.median(values) for name, values in timed.items()}
    final = {name: statistics.fmean(values[-5:]) for name, values in losses.items()}
    first = runners[0]
    return {
        "config": asdict(cfg),
        "model": SIZES[cfg.size],
        "summary": {
            name: {"step_ms": median[name] * 1e3, "tokens_per_second": tokens / median[name], "final_loss": final[name]}
            for name in runners
        },
        # The faster runner has the shorter step: ours/other speed is other's time over ours, step by step.
        "ratios": {
            f"{first}/{name}": statistics.median(b / a for a, b in zip(timed[first], timed[name]))
            for name in runners[1:]
        },
        "same_final_loss": same_final_loss(cfg, [final[name] for name in same_loss or runners]),
        "wall_seconds": time.perf_counter() - started,
    }


def markdown(report: dict) -> str:
    cfg = report["config"]
    timed = cfg["steps"] - cfg["warmup"]
    lines = [
        f"Model {cfg['size']} {report['model']}, batch {cfg['batch_size']} x {report['model']['block_size']} tokens, "
        f"{cfg['precision']} on {cfg['device']}; every runner in one process, step by step in rotating order on "
        f"the same batches, {timed} steps timed after {cfg['warmup']}.",
        "",
        "| runner | median step (ms) | tokens/s | final loss |",
        "|---|---|---|---|",
    ]
    for name, s in report["summary"].items():
        lines.append(f"| {name} | {s['step_ms']:.2f} | {s['tokens_per_second']:,.0f} | {s['final_loss']:.4f} |")
    lines += ["", " · ".join(f"{k} = {v:.3f} (median of paired steps)" for k, v in report["ratios"].items())]
    lines.append(f"Same final loss across runners: {report['same_final_loss']}.")
    return "\n".join(lines) + "\n"
