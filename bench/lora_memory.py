"""Full fine-tuning against LoRA: peak memory and tokens/s of the same model, side by side in one run.

    python -m bench.lora_memory --device cuda --presets gpt2-large gpt2-xl [--batch-size 4] [--rank 8]

Each (preset, mode) runs in its own process, so one's memory never counts in the other's peak: the
model from its preset (random weights: memory and speed do not depend on them), GPT2LitModule's own
AdamW over what trains, bf16 autocast on a GPU, random token batches of ``--block-size`` tokens.
Peak memory is ``torch.cuda.max_memory_allocated`` on a GPU, the process's peak RSS on a CPU.
Writes bench/results/lora_memory_<device>.md and .json.
"""

import argparse
import json
import subprocess
import sys

import torch

from bench.common import timed_steps, write_report
from lit_gpt2.modeling.lora import LoraSettings
from lit_gpt2.module import GPT2LitModule

TINY = {"n_layer": 2, "n_head": 2, "n_embd": 64, "n_positions": 64}  # for a quick check on a CPU


def measure(preset: str, lora: bool, device: str, batch_size: int, block_size: int, steps: int, rank: int) -> dict:
    """Train ``steps`` steps (after 2 of warm-up) and report speed, peak memory and what trained."""
    torch.manual_seed(0)
    shape = {"config": TINY} if preset == "tiny" else {"preset": preset}
    module = GPT2LitModule(**shape, lora=LoraSettings(rank=rank) if lora else None).to(device)
    module.model.train()
    optimizer, _ = module.optimizer_and_scheduler(total_steps=steps + 2, fused=device == "cuda")
    vocab = module.model.config.vocab_size
    batch = torch.randint(vocab, (batch_size, block_size), device=device)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda")

    def step() -> None:
        with autocast:
            loss = module.model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    seconds_per_step, peak_mib = timed_steps(step, steps, device, warmup=2)
    return {
        "preset": preset,
        "mode": f"LoRA r={rank}" if lora else "full",
        "trainable_parameters": sum(p.numel() for p in module.parameters() if p.requires_grad),
        "parameters": sum(p.numel() for p in module.parameters()),
        "tokens_per_second": batch_size * block_size / seconds_per_step,
        "peak_memory_mib": peak_mib,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lora_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["gpt2-large", "gpt2-xl"], help="or tiny, on a CPU")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--block-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--child", nargs=2, metavar=("PRESET", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = (args.device, args.batch_size, args.block_size, args.steps, args.rank)
    if args.child:
        preset, mode = args.child
        print(json.dumps(measure(preset, mode == "lora", *settings)))
        return
    rows = []
    for preset in args.presets:
        for mode in ("full", "lora"):
            command = [sys.executable, "-m", "bench.lora_memory", *sys.argv[1:], "--child", preset, mode]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:  # e.g. full fine-tuning out of memory: say so, keep going
                rows.append({"preset": preset, "mode": mode, "error": done.stderr.strip().splitlines()[-1]})
                continue
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    lines = [
        f"# Full fine-tuning vs LoRA ({args.device}, batch {args.batch_size} x {args.block_size}, "
        f"{args.steps} timed steps{', bf16 autocast' if args.device == 'cuda' else ''})",
        "",
        "| preset | mode | trainable / all parameters | tokens/s | peak memory (MiB) | vs full |",
        "|---|---|---|---|---|---|",
    ]
    full = {}
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['preset']} | {row['mode']} | | | failed: {row['error']} | |")
            continue
        if row["mode"] == "full":
            full[row["preset"]] = row
        base, ratio = full.get(row["preset"]), "full failed"
        if base is not None:
            ratio = f"{row['tokens_per_second'] / base['tokens_per_second']:.2f}x speed, "
            ratio += f"{row['peak_memory_mib'] / base['peak_memory_mib']:.2f}x memory"
        share = f"{row['trainable_parameters']:,} / {row['parameters']:,}"
        tps, peak = row["tokens_per_second"], row["peak_memory_mib"]
        lines.append(f"| {row['preset']} | {row['mode']} | {share} | {tps:,.0f} | {peak:,.0f} | {ratio} |")
    write_report(args.out, f"lora_memory_{args.device}", {"rows": rows}, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
