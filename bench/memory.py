"""Gradient checkpointing: peak memory and step time of one training step, with and without, side by side.

    python -m bench.memory [--device cpu|cuda] [--preset gpt2] [--batch-size 1] [--block-size 1024]

Each mode runs in its own fresh process, so one's memory never counts in the other's peak: the model
from its preset (random weights: memory and speed do not depend on them), GPT2LitModule's own training
forward (``shared_step``) and AdamW, a random token batch, one warm-up step (AdamW's state exists after
it) and ``--steps`` timed steps. Peak memory is the process's peak RSS on a CPU (weights, gradients,
AdamW state and activations together; the RSS before the first step is reported beside it), and
``torch.cuda.max_memory_allocated`` on a GPU. Writes bench/results/gradient_checkpointing_<device>.md
and .json.
"""

import argparse
import json
import os
import platform
import subprocess
import sys

import torch

from bench.common import timed_steps, write_report
from lit_gpt2.module import GPT2LitModule

TINY = {"n_layer": 2, "n_head": 2, "n_embd": 64, "n_positions": 64}  # for a quick check


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(preset: str, checkpointing: bool, device: str, batch_size: int, block_size: int, steps: int) -> dict:
    """One warm-up step, then ``steps`` timed ones; the peak memory of the whole process."""
    torch.manual_seed(0)
    shape = {"config": TINY} if preset == "tiny" else {"preset": preset}
    module = GPT2LitModule(**shape, gradient_checkpointing=checkpointing).to(device)
    module.model.train()
    optimizer, _ = module.optimizer_and_scheduler(total_steps=steps + 1, fused=device == "cuda")
    batch = {"input_ids": torch.randint(module.model.config.vocab_size, (batch_size, block_size), device=device)}
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")
    before_mib = _rss_mib() if device == "cpu" else torch.cuda.memory_allocated() / 2**20

    def step() -> float:
        with autocast:
            loss, _ = module.shared_step(batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss.item()

    seconds, peak_mib = timed_steps(step, steps, device)
    if device == "cpu":  # Linux's high-water mark can miss memory given back since (madvise): never below it
        peak_mib = max(peak_mib, before_mib)
    return {
        "preset": preset,
        "gradient_checkpointing": checkpointing,
        "parameters": sum(p.numel() for p in module.parameters()),
        "seconds_per_step": seconds,
        "memory_before_first_step_mib": before_mib,
        "peak_memory_mib": peak_mib,
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "CPU"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt2", help="a size preset, or tiny for a quick check")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--child", choices=["off", "on"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = (args.device, args.batch_size, args.block_size, args.steps)
    if args.child:
        print(json.dumps(measure(args.preset, args.child == "on", *settings)))
        return
    rows = []
    for mode in ("off", "on"):
        command = [sys.executable, "-m", "bench.memory", *sys.argv[1:], "--child", mode]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:  # e.g. out of memory without checkpointing: say so, keep going
            rows.append({"gradient_checkpointing": mode == "on", "error": done.stderr.strip().splitlines()[-1]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    machine = torch.cuda.get_device_name() if args.device == "cuda" else _cpu_name()
    unit = "peak allocated (MiB)" if args.device == "cuda" else "peak RSS (MiB)"
    lines = [
        f"# Gradient checkpointing ({args.preset}, {args.device}, batch {args.batch_size} x {args.block_size}, "
        f"{args.steps} timed steps after one warm-up{', bf16 autocast' if args.device == 'cuda' else ', fp32'})",
        "",
        f"Machine: {machine}, {os.cpu_count()} CPU cores visible, torch {torch.__version__}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}. Each mode in its own fresh process.",
        "",
        f"| gradient checkpointing | {unit} | before the first step (MiB) | seconds per step | vs off |",
        "|---|---|---|---|---|",
    ]
    off = rows[0] if "error" not in rows[0] else None
    for row in rows:
        label = "on" if row["gradient_checkpointing"] else "off"
        if "error" in row:
            lines.append(f"| {label} | failed: {row['error']} | | | |")
            continue
        ratio = ""
        if off is not None and row is not off:
            ratio = f"{row['peak_memory_mib'] / off['peak_memory_mib']:.2f}x memory, "
            ratio += f"{row['seconds_per_step'] / off['seconds_per_step']:.2f}x time"
        peak, before, seconds = row["peak_memory_mib"], row["memory_before_first_step_mib"], row["seconds_per_step"]
        lines.append(f"| {label} | {peak:,.0f} | {before:,.0f} | {seconds:.2f} | {ratio} |")
    stem = f"gradient_checkpointing_{args.device}" + ("" if args.preset == "gpt2" else f"_{args.preset}")
    write_report(args.out, stem, {"settings": vars(args), "rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
