"""What keeping freed memory (``model.keep_freed_memory``, lit_gpt2/allocator.py) saves a CPU run.

    python -m bench.allocator [--size nanogpt-cpu|small] [--repeats 6] [--steps 100]

lit-gpt2's training path under Lightning's Trainer (the ``ours`` runner of ``python -m bench``) with the
switch on and off, each run in a fresh process (the allocator's settings are the process's), the two
alternating over the repeats. Beside tokens/s, whose spread on a shared CPU can hide a few percent,
each run counts its page faults and kernel CPU time per step (getrusage), which the switch is about.
Writes bench/results/allocator_<size>_<device>.{md,json}.
"""

import argparse
import time
from dataclasses import asdict, replace

from bench.common import (
    SIZES,
    BenchConfig,
    add_run_arguments,
    config_from_args,
    run_line,
    summarise_runs,
    write_report,
)
from bench.train_speed import rotating_runs

VARIANTS = {"freed memory kept (the CPU default)": True, "glibc's defaults": False}


def compare(cfg: BenchConfig, repeats: int) -> dict:
    started = time.perf_counter()
    variants = {
        name: ("ours", replace(cfg, module_options={**cfg.module_options, "keep_freed_memory": keep}))
        for name, keep in VARIANTS.items()
    }
    runs = rotating_runs(variants, repeats)
    summary = {name: summarise_runs(cfg, results) for name, results in runs.items()}
    kept, default = (summary[name]["tokens_per_second"] for name in VARIANTS)
    return {
        "config": asdict(cfg),
        "model": SIZES[cfg.size],
        "summary": summary,
        "ratio": kept / default,
        "wall_seconds": time.perf_counter() - started,
    }


def markdown(report: dict) -> str:
    lines = [
        f"{run_line(report)}, under Lightning's Trainer; "
        f"each run in its own process, medians of {len(next(iter(report['summary'].values()))['runs'])}.",
        "",
        "| allocator | tokens/s (median) | runs | page faults a step | kernel CPU ms a step | peak RSS MiB "
        "| final loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in report["summary"].items():
        runs = ", ".join(f"{v:,.0f}" for v in s["runs"])
        lines.append(
            f"| {name} | {s['tokens_per_second']:,.0f} | {runs} | {s['minor_faults_per_step']:,.0f} | "
            f"{s['system_ms_per_step']:.2f} | {s['peak_rss_mib']:,.0f} | {s['final_loss']:.4f} |"
        )
    lines += ["", f"kept/defaults (tokens/s) = {report['ratio']:.3f}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.allocator", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.set_defaults(size="nanogpt-cpu", batch_size=12, vocab=512, steps=100, warmup=10, repeats=6)
    args = parser.parse_args(argv)
    cfg = config_from_args(args)
    report = compare(cfg, args.repeats)
    write_report(args.out, f"allocator_{cfg.size}_{cfg.device}", report, markdown(report))


if __name__ == "__main__":
    main()
