"""Which of lit-gpt2's training switches win, measured side by side in one run.

    python -m bench.optimisations [--size tiny|small|gpt2] [--device cuda --precision bf16-mixed] [--skip NAME]

Every variant is lit-gpt2's own training path (the "ours" runner of ``python -m bench``) with its speed
switches set explicitly, in fresh processes, alternating over the repeats; tokens/s are steady-state
medians (compilation falls in the warm-up steps), reported as ratios to the first variant. On CUDA with
bf16 a last variant runs in 32-true, which measures the bf16-mixed default.
Writes bench/results/optimisations_<size>_<device>.{md,json}.
"""

import argparse
import time
from dataclasses import asdict, replace

from bench.common import SIZES, add_run_arguments, config_from_args, summarise_runs, write_report
from bench.train_speed import run_once

# name -> (GPT2LitModule switches, precision override or None); every switch explicit, none left on auto.
VARIANTS = {
    "transformers loss, AdamW foreach": ({"loss_chunk_size": 0, "fused_adamw": False, "compile": False}, None),
    "chunked loss": ({"loss_chunk_size": 1024, "fused_adamw": False, "compile": False}, None),
    "chunked loss + fused AdamW": ({"loss_chunk_size": 1024, "fused_adamw": True, "compile": False}, None),
    "transformers loss + fused AdamW": ({"loss_chunk_size": 0, "fused_adamw": True, "compile": False}, None),
    "chunked loss + fused AdamW + compile": ({"loss_chunk_size": 1024, "fused_adamw": True, "compile": True}, None),
    "transformers loss + fused AdamW + compile": ({"loss_chunk_size": 0, "fused_adamw": True, "compile": True}, None),
}
FP32_VARIANT = "transformers loss + fused AdamW + compile, 32-true"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.optimisations", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--skip", action="append", default=[], help="variant to leave out (repeatable)")
    args = parser.parse_args(argv)
    base = config_from_args(args)
    variants = dict(VARIANTS)
    if args.device == "cuda" and args.precision == "bf16-mixed":
        variants[FP32_VARIANT] = ({"loss_chunk_size": 0, "fused_adamw": True, "compile": True}, "32-true")
    unknown = set(args.skip) - variants.keys()
    if unknown:
        parser.error(f"unknown variant(s) {sorted(unknown)}: choose from {sorted(variants)}")
    configs = {
        name: replace(base, module_options=options, precision=precision or base.precision)
        for name, (options, precision) in variants.items()
        if name not in args.skip
    }
    names = list(configs)
    runs: dict[str, list[dict]] = {name: [] for name in names}
    started = time.perf_counter()
    for repeat in range(args.repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            result = run_once("ours", configs[name])
            runs[name].append(result)
            print(f"repeat {repeat + 1}/{args.repeats} {name}: {result['tokens_per_second']:,.0f} tokens/s", flush=True)
    first = names[0]
    summary = {
        name: {
            "options": configs[name].module_options,
            "precision": configs[name].precision,
            **summarise_runs(configs[name], results),
        }
        for name, results in runs.items()
    }
    reference = summary[first]["tokens_per_second"]
    for entry in summary.values():
        entry["speedup"] = entry["tokens_per_second"] / reference
    report = {
        "config": asdict(base),
        "model": SIZES[base.size],
        "summary": summary,
        "wall_seconds": time.perf_counter() - started,
    }
    write_report(args.out, f"optimisations_{base.size}_{base.device}", report, markdown(report))


def markdown(report: dict) -> str:
    cfg = report["config"]
    lines = [
        f"Model {cfg['size']} {report['model']}, batch {cfg['batch_size']}, {cfg['steps']} steps "
        f"({cfg['warmup']} warm-up), {cfg['precision']} on {cfg['device']} unless the row says otherwise; "
        f"median of {len(next(iter(report['summary'].values()))['runs'])}.",
        "",
        "| variant | precision | tokens/s (median) | x first row | MFU | peak RSS MiB | final loss |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in report["summary"].items():
        mfu = f"{s['mfu']:.1%}" if s["mfu"] is not None else "n/a"
        lines.append(
            f"| {name} | {s['precision']} | {s['tokens_per_second']:,.0f} | {s['speedup']:.2f} | {mfu} | "
            f"{s['peak_rss_mib']:,.0f} | {s['final_loss']:.4f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
