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

from bench.common import SIZES, add_run_arguments, config_from_args, run_line, summarise_runs, write_report
from bench.train_speed import rotating_runs


def switches(lean: bool, chunk: int, fused: bool, compile_: bool, vocab_multiple: int = 1) -> dict:
    """Every speed switch of GPT2LitModule, explicit: none left on auto."""
    return {
        "lean_forward": lean,
        "loss_chunk_size": chunk,
        "fused_adamw": fused,
        "compile": compile_,
        "vocab_multiple": vocab_multiple,
    }


# name -> (GPT2LitModule switches, precision override or None), per device; the first row is the reference.
VARIANTS = {
    "cpu": {
        "transformers forward, chunked loss (the old CPU default)": (
            switches(False, 1024, False, False),
            None,
        ),
        "transformers forward, full logits": (switches(False, 0, False, False), None),
        "lean forward, chunked loss": (switches(True, 1024, False, False), None),
        "lean forward, full logits": (switches(True, 0, False, False), None),
        "lean forward, chunked loss, fused AdamW (the CPU default)": (switches(True, 1024, True, False), None),
        "lean forward, chunked loss, fused AdamW, compile": (switches(True, 1024, True, True), None),
    },
    "cuda": {
        "transformers forward, fused AdamW, compile (the old GPU default)": (switches(False, 0, True, True), None),
        "lean forward, fused AdamW, compile": (switches(True, 0, True, True), None),
        "lean forward, vocabulary padded to 64, fused AdamW, compile (the GPU default)": (
            switches(True, 0, True, True, 64),
            None,
        ),
        "lean forward, vocabulary padded to 64, fused AdamW": (switches(True, 0, True, False, 64), None),
        "lean forward, chunked loss, fused AdamW, compile": (switches(True, 1024, True, True), None),
    },
}
FP32_VARIANT = "the GPU default in 32-true"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.optimisations", description=__doc__.split("\n\n")[0])
    add_run_arguments(parser)
    parser.add_argument("--skip", action="append", default=[], help="variant to leave out (repeatable)")
    args = parser.parse_args(argv)
    base = config_from_args(args)
    variants = dict(VARIANTS[args.device])
    if args.device == "cuda" and args.precision == "bf16-mixed":
        variants[FP32_VARIANT] = (switches(True, 0, True, True, 64), "32-true")
    unknown = set(args.skip) - variants.keys()
    if unknown:
        parser.error(f"unknown variant(s) {sorted(unknown)}: choose from {sorted(variants)}")
    configs = {
        name: replace(base, module_options=options, precision=precision or base.precision)
        for name, (options, precision) in variants.items()
        if name not in args.skip
    }
    started = time.perf_counter()
    runs = rotating_runs({name: ("ours", config) for name, config in configs.items()}, args.repeats)
    first = next(iter(configs))
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
    lines = [
        f"{run_line(report)} unless the row says otherwise; "
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
