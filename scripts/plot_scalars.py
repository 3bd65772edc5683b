"""Draw logged scalars of one or more runs as a PNG (the curves in docs/), read from their TensorBoard events.

    python scripts/plot_scalars.py runs/lit-gpt2/version_0 --tags val/genre_accuracy \\
        --reference 0.077 --reference_label chance --out docs/genre-accuracy.png
"""

import argparse
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from lit_gpt2.plots import scalar_curves


def read_scalars(run: Path, tags: list[str]) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value)]}`` of a run folder; a tag the run never logged is refused in one line."""
    events = EventAccumulator(str(run), size_guidance={"scalars": 0})
    events.Reload()
    logged = events.Tags()["scalars"]
    missing = [tag for tag in tags if tag not in logged]
    if missing:
        group = missing[0].split("/")[0] + "/"  # name the tags beside the missing one, not all of them
        near = sorted(tag for tag in logged if tag.startswith(group)) or sorted(logged)[:10]
        raise SystemExit(f"{run} logged no {', '.join(missing)}: it has {', '.join(near) or 'no scalars'}, ...")
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in tags}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="Run folders, e.g. runs/lit-gpt2/version_0")
    parser.add_argument("--tags", nargs="+", required=True, help="Scalar tags to draw, e.g. val/bpb")
    parser.add_argument("--reference", type=float, default=None, help="A horizontal line, e.g. chance")
    parser.add_argument("--reference_label", default="reference")
    parser.add_argument("--ylabel", default=None, help="Default: the first tag")
    parser.add_argument("--out", type=Path, required=True, help="The PNG to write")
    args = parser.parse_args()
    curves = {}
    for run in args.runs:
        for tag, points in read_scalars(run, args.tags).items():
            curves[f"{run.name}: {tag}" if len(args.runs) > 1 else tag] = points
    reference = (args.reference, args.reference_label) if args.reference is not None else None
    scalar_curves(curves, args.ylabel or args.tags[0], reference).savefig(args.out, dpi=110)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()
