"""Generation with and without the lean decoding step, side by side in one process, taking turns.

    python -m bench.decode_speed [--repeats 9] [--tokens 80] [--out bench/results/decode_speed_cpu.md]

One round is what the sample callback generates: its default strategies, its two prompts, ``--tokens``
new tokens each, on the quickstart's model shape (4 x 4 x 128, the 512-token BPE; weights from config:
the speed is the same, and a random model rarely stops early). Each repeat runs a round with
transformers' forward for every step and a round with the lean step, in alternating order, and checks
that both wrote the same tokens.
"""

import argparse
import statistics
import time
from pathlib import Path

import torch
from transformers import GPT2LMHeadModel

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.decoding.generate import DEFAULT_PROMPTS
from lit_gpt2.decoding.strategies import DEFAULT_CALLBACK_STRATEGIES, resolve_strategies
from lit_gpt2.modeling.inference import inference_pass
from lit_gpt2.modeling.lean_decode import lean_decoding
from lit_gpt2.module import GPT2LitModule

SHAPE = {"n_layer": 4, "n_head": 4, "n_embd": 128, "n_positions": 256}  # the quickstart's model


def one_round(model: GPT2LMHeadModel, batch: dict, configs: list, lean: bool) -> tuple[float, list]:
    """Seconds for every strategy's generation, and what each wrote."""
    written = []
    start = time.perf_counter()
    with inference_pass(model), lean_decoding(model, enabled=lean):
        for config in configs:
            torch.manual_seed(1234)
            written.append(model.generate(**batch, generation_config=config).tolist())
    return time.perf_counter() - start, written


def decode_speed(repeats: int, tokens: int) -> dict:
    """Median seconds a round with transformers' forward and with the lean step, and whether every
    round of both wrote the same tokens."""
    torch.manual_seed(0)
    module = GPT2LitModule(config=SHAPE, tokenizer=str(Corpus(train_tokenizer=512).fitted_tokenizer()))
    model, tokenizer = module.model, module.tokenizer
    rows = tokenizer(list(DEFAULT_PROMPTS))["input_ids"]
    batch = tokenizer.pad({"input_ids": rows}, padding=True, padding_side="left", return_tensors="pt")
    strategies = resolve_strategies(DEFAULT_CALLBACK_STRATEGIES)
    configs = [s.generation_config(tokens, tokenizer.pad_token_id, tokenizer.eos_token_id) for s in strategies]
    seconds: dict[bool, list[float]] = {False: [], True: []}
    same = True
    one_round(model, batch, configs, lean=True)  # warm-up: first calls of every operation
    for repeat in range(repeats):
        outputs = {}
        for lean in (False, True) if repeat % 2 == 0 else (True, False):
            elapsed, outputs[lean] = one_round(model, batch, configs, lean)
            seconds[lean].append(elapsed)
        same &= outputs[False] == outputs[True]
    return {
        "transformers": statistics.median(seconds[False]),
        "lean": statistics.median(seconds[True]),
        "same_tokens": same,
        "round": f"{len(configs)} strategies ({', '.join(s.name for s in strategies)}) x {len(rows)} prompts "
        f"x {tokens} tokens",
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.decode_speed")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--tokens", type=int, default=80)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = decode_speed(args.repeats, args.tokens)
    plain, lean = result["transformers"], result["lean"]
    lines = [
        "| decoding steps | seconds a round (median) | lean/transformers |",
        "|---|---|---|",
        f"| transformers' forward | {plain:.3f} | 1.000 |",
        f"| lean decoding step | {lean:.3f} | {lean / plain:.3f} |",
    ]
    facts = (
        f"A round: {result['round']}; {args.repeats} rounds each, taking turns; torch threads: "
        f"{torch.get_num_threads()}; the same tokens written: {result['same_tokens']}"
    )
    print("\n".join(lines) + "\n\n" + facts)
    if args.out:
        args.out.write_text("\n".join(lines) + "\n\n" + facts + "\n")


if __name__ == "__main__":
    main()
