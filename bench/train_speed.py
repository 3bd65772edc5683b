"""Training speed of lit-gpt2 against a raw PyTorch loop and Hugging Face Trainer, side by side.

    python -m bench [--size tiny|small|gpt2] [--steps 40] [--repeats 3] [--precision bf16-mixed --device cuda]

Every run does the same work (model, initial weights, data and order, batch, optimizer, LR schedule,
clipping, precision, number of steps) in a fresh process, the three runners alternating over the
repeats; tokens/s are steady-state (after the warm-up steps) and reported as medians and as ratios.
Writes bench/results/train_speed_<size>_<device>.{md,json}.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict

from bench.common import (
    SIZES,
    BenchConfig,
    add_run_arguments,
    config_from_args,
    same_final_loss,
    summarise_runs,
    write_report,
)

RUNNERS = ("ours", "raw", "hf")


def run_once(runner: str, cfg: BenchConfig) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1")}
    out = subprocess.run(
        [sys.executable, "-m", "bench.runners", runner, json.dumps(asdict(cfg))],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"bench: the {runner} runner failed:\n{out.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    report = side_by_side(cfg, RUNNERS, args.repeats)
    write_report(args.out, f"train_speed_{cfg.size}_{cfg.device}", report, markdown(report))


def side_by_side(cfg: BenchConfig, runners: tuple[str, ...], repeats: int, same_loss: tuple[str, ...] = ()) -> dict:
    """Each runner ``repeats`` times in fresh processes, in rotating order; medians, ``ours/<runner>``
    ratios, and whether the final losses agree (of ``same_loss``, default all runners)."""
    started = time.perf_counter()
    runs = rotating_runs({name: (name, cfg) for name in runners}, repeats)
    summary = {name: summarise_runs(cfg, results) for name, results in runs.items()}
    ours = summary["ours"]["tokens_per_second"]
    losses = [summary[name]["final_loss"] for name in same_loss or runners]
    return {
        "config": asdict(cfg),
        "model": SIZES[cfg.size],
        "summary": summary,
        "ratios": {f"ours/{name}": ours / summary[name]["tokens_per_second"] for name in runners if name != "ours"},
        "same_final_loss": same_final_loss(cfg, losses),
        "wall_seconds": time.perf_counter() - started,
    }


def rotating_runs(variants: dict[str, tuple[str, BenchConfig]], repeats: int) -> dict[str, list[dict]]:
    """Each variant (a runner and its config) ``repeats`` times, each run in a fresh process, in rotating
    order so that none always goes first; every run's result, by variant."""
    names = list(variants)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            result = run_once(*variants[name])
            runs[name].append(result)
            print(f"repeat {repeat + 1}/{repeats} {name}: {result['tokens_per_second']:,.0f} tokens/s", flush=True)
    return runs


def markdown(report: dict) -> str:
    cfg = report["config"]
    lines = [
        f"Model {cfg['size']} {report['model']}, vocabulary {vocabulary(cfg)}, "
        f"batch {cfg['batch_size']} x {report['model']['block_size']} tokens, {cfg['steps']} steps "
        f"({cfg['warmup']} warm-up), {cfg['precision']} on {cfg['device']}; "
        f"median of {len(report['summary']['ours']['runs'])}.",
        "",
        "| runner | tokens/s (median) | runs | MFU | peak RSS MiB | final loss |",
        "|---|---|---|---|---|---|",
    ]
    for name, s in report["summary"].items():
        runs = ", ".join(f"{v:,.0f}" for v in s["runs"])
        mfu = f"{s['mfu']:.1%}" if s.get("mfu") is not None else "n/a"
        lines.append(
            f"| {name} | {s['tokens_per_second']:,.0f} | {runs} | {mfu} | {s['peak_rss_mib']:,.0f} | "
            f"{s['final_loss']:.4f} |"
        )
    lines += ["", " · ".join(f"{k} = {v:.3f}" for k, v in report["ratios"].items())]
    lines.append(f"Same final loss across runners: {report['same_final_loss']}.")
    return "\n".join(lines) + "\n"


def vocabulary(cfg: dict) -> str:
    return f"a {cfg['vocab']:,}-token BPE fitted to the training scenes" if cfg.get("vocab") else "GPT-2's 50,257"


if __name__ == "__main__":
    main()
