"""What a forked process alive beside the training steps costs them, and what forking costs.

    python -m bench.forked_child [--repeats 5] [--steps 40] [--out bench/results/forked_child_cpu.md]

Why the watching callbacks' charts are not drawn by a forked worker process (docs/performance.md):
lit-gpt2's training steps of the quickstart's model on its data (``bench.runners.ours_step``: 4 x 4 x
128, the 512-token BPE, batches of 8 x 128, AdamW, freed memory kept as in a fit) timed in one process,
taking turns: with no other process; with a forked copy of the process alive and idle (sharing its
memory until either writes); and again after that copy has ended. Also the time ``os.fork`` takes here.
"""

import argparse
import os
import signal
import statistics
import time
from pathlib import Path

import torch

from bench.common import BenchConfig
from bench.runners import epochs, ours_step

STATES = ("no other process", "a forked copy alive", "after the copy ended")


def forked_child(repeats: int, steps: int) -> dict:
    """Median milliseconds a training step in each state, and a fork's milliseconds."""
    # The quickstart's model and data: lit-gpt2's step as the Trainer runs it (``bench.runners``).
    cfg = BenchConfig(size="small", vocab=512, batch_size=8, steps=(3 * repeats + 1) * steps)
    step, data = ours_step(cfg)
    batches = epochs(data.train_dataloader())

    def step_ms() -> float:
        start = time.perf_counter()
        for _, batch in zip(range(steps), batches):
            step(batch)
        return (time.perf_counter() - start) / steps * 1000

    step_ms()  # warm-up: first calls, the allocator's pools
    ms: dict[str, list[float]] = {state: [] for state in STATES}
    forks = []
    for _ in range(repeats):
        ms[STATES[0]].append(step_ms())
        start = time.perf_counter()
        child = os.fork()
        if child == 0:  # the copy: idle until ended, as a worker waiting for work is
            signal.pause()
            os._exit(0)
        forks.append((time.perf_counter() - start) * 1000)
        ms[STATES[1]].append(step_ms())
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        ms[STATES[2]].append(step_ms())
    medians = {state: statistics.median(values) for state, values in ms.items()}
    return {
        "step_ms": medians,
        "all_step_ms": ms,
        "alive_over_alone": medians[STATES[1]] / medians[STATES[0]],
        "after_over_alone": medians[STATES[2]] / medians[STATES[0]],
        "fork_ms": statistics.median(forks),
    }


def markdown(report: dict, repeats: int, steps: int) -> str:
    lines = [
        f"`python -m bench.forked_child --repeats {repeats} --steps {steps}`: {repeats} repeats of {steps} "
        f"training steps in each state, taking turns, torch's {torch.get_num_threads()} threads.",
        "",
        "| state | median ms a step | every repeat |",
        "|---|---|---|",
    ]
    for state, median in report["step_ms"].items():
        every = ", ".join(f"{value:.1f}" for value in report["all_step_ms"][state])
        lines.append(f"| {state} | {median:.1f} | {every} |")
    lines += [
        "",
        f"A forked copy alive: **{report['alive_over_alone']:.2f}x** the step time alone; after it ended "
        f"{report['after_over_alone']:.2f}x. `os.fork` here: {report['fork_ms']:.1f} ms.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.forked_child", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args()
    report = forked_child(args.repeats, args.steps)
    table = markdown(report, args.repeats, args.steps)
    print(table)
    if args.out:
        args.out.write_text(table)


if __name__ == "__main__":
    main()
