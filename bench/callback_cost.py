"""What the watching callbacks cost a real run: their own ``gen/seconds``, ``attn/seconds`` and
``lens/seconds`` against the run's training time, read back from its TensorBoard events.

    python -m bench.callback_cost RUN_DIR [--out bench/results/callback_cost_quickstart_cpu.md]

Training time: the wall time between consecutive ``train/loss`` events, where a gap that holds a
validation or a round (a ``val/loss`` or ``*/seconds`` event) counts as a median gap. The share is
every round's seconds (the one before training included) over that training time.
"""

import argparse
import itertools
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_gpt2.callbacks import AttentionHeatmapCallback, LogitLensCallback, SampleGenerationCallback

# Each watching callback logs the seconds of its rounds under its own tag.
TAGS = tuple(c.seconds_tag for c in (SampleGenerationCallback, AttentionHeatmapCallback, LogitLensCallback))


def callback_cost(run: Path) -> dict[str, float]:
    events = EventAccumulator(str(run), size_guidance={"scalars": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    train = [e.wall_time for e in events.Scalars("train/loss")]
    rounds = {tag: events.Scalars(tag) for tag in TAGS if tag in scalars}
    interruptions = [e.wall_time for e in events.Scalars("val/loss")] if "val/loss" in scalars else []
    interruptions += [e.wall_time for values in rounds.values() for e in values]
    gaps = list(itertools.pairwise(train))
    median = sorted(b - a for a, b in gaps)[len(gaps) // 2]
    training = sum(median if any(a < t < b for t in interruptions) else b - a for a, b in gaps)
    seconds = {tag: [e.value for e in values] for tag, values in rounds.items()}
    total = sum(sum(values) for values in seconds.values())
    return {
        "rounds": float(max((len(v) for v in seconds.values()), default=0)),
        **{f"{tag}, mean per round": sum(v) / len(v) for tag, v in seconds.items()},
        "callbacks, seconds in all": total,
        "training, seconds": training,
        "share of training time": total / training,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.callback_cost")
    parser.add_argument("run", type=Path, help="A run folder, e.g. runs/lit-gpt2/version_0")
    parser.add_argument("--out", type=Path, default=None, help="Also write the table to this markdown file.")
    args = parser.parse_args()
    cost = callback_cost(args.run)
    lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v:,.3f} |" for k, v in cost.items()]
    print("\n".join(lines))
    if args.out:
        args.out.write_text(f"Callback cost of `{args.run}`\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
