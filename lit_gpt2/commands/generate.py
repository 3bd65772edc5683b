"""``lit-gpt2 generate``: continue prompts with one decoding strategy and print (or save) the results."""

import dataclasses
import json
from pathlib import Path

from jsonargparse import ArgumentParser

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.commands.prompts import add_prompt_arguments, read_prompts
from lit_gpt2.decoding.generate import generate_samples
from lit_gpt2.decoding.strategies import OVERRIDABLE, PRESETS, DecodingStrategy, customised


def generate_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 generate", description="Continue prompts with a decoding strategy.")
    parser.add_argument("--model", type=str, required=True, help="A .ckpt, an exported folder, or a hub name.")
    add_prompt_arguments(parser)
    parser.add_argument("--strategy", type=str, default="greedy", choices=list(PRESETS), help="Decoding preset.")
    for field in dataclasses.fields(DecodingStrategy):
        if field.name in OVERRIDABLE:
            parser.add_argument(f"--{field.name}", type=field.type | None, default=None, help="Overrides the preset.")
    parser.add_argument("--max_new_tokens", type=int, default=64, help="Tokens to generate per prompt.")
    parser.add_argument("--seed", type=int, default=0, help="Sampling seed.")
    parser.add_argument("--jsonl", type=str | None, default=None, help="Also write one JSON line per prompt here.")
    cfg = parser.parse_args(argv)
    prompts = read_prompts(cfg.prompt, cfg.prompts_file)
    strategy = customised(cfg.strategy, {k: cfg[k] for k in OVERRIDABLE})
    model, tokenizer = load_model_and_tokenizer(cfg.model)
    samples = generate_samples(model, tokenizer, prompts, strategy, cfg.max_new_tokens, cfg.seed)
    for prompt, text in zip(samples.prompts, samples.texts):
        print(f"=== {strategy.name} | seed {cfg.seed} ===\n{prompt}{text}\n")
    if cfg.jsonl:
        with Path(cfg.jsonl).open("w", encoding="utf-8") as out:
            for prompt, text in zip(samples.prompts, samples.texts):
                record = {"prompt": prompt, "continuation": text, "seed": cfg.seed, **dataclasses.asdict(strategy)}
                out.write(json.dumps(record) + "\n")
        print(f"Wrote {len(prompts)} line(s) to {cfg.jsonl}")
