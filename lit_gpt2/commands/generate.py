"""``lit-gpt2 generate``: continue prompts with one decoding strategy and print (or save) the results."""

import dataclasses
import json
from pathlib import Path

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.commands.prompts import read_prompts
from lit_gpt2.decoding.generate import check_generation_controls, generate_samples
from lit_gpt2.decoding.strategies import customised
from lit_gpt2.modeling.control import coded_prompts


def generate_command(
    model: str,
    prompt: list[str] | None = None,
    prompts_file: str | None = None,
    strategy: str = "greedy",
    genre: str | None = None,
    temperature: float | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    typical_p: float | None = None,
    min_p: float | None = None,
    do_sample: bool | None = None,
    num_beams: int | None = None,
    repetition_penalty: float | None = None,
    no_repeat_ngram_size: int | None = None,
    max_new_tokens: int = 64,
    seed: int = 0,
    jsonl: str | None = None,
    num_samples: int = 1,
    stop: list[str] | None = None,
) -> list[dict]:
    """Continue prompts with a decoding strategy (a preset, optionally with its knobs overridden).

    Args:
        model: The model: a .ckpt, an exported folder, or a hub name.
        prompt: Prompt texts, space-separated or the option repeated; \\n stands for a line break.
        prompts_file: More prompts: a .jsonl file with a "prompt" field per line, or text with prompts
            separated by lines holding only ---.
        strategy: A decoding preset (greedy, beam-5, temperature-0.7, top-k-40, top-p-0.9, ...).
        genre: Ask for a genre: its control code goes before every prompt (models trained with
            data.control=genre; an unknown genre is refused with the list of known ones).
        temperature: Overrides the preset's softmax temperature (a sampling knob: turns sampling on).
        top_k: Overrides the preset's top-k (sampling knob; 0 keeps every token).
        top_p: Overrides the preset's nucleus mass (sampling knob).
        typical_p: Overrides the preset's typical-sampling mass (sampling knob).
        min_p: Overrides the preset's min-p (sampling knob).
        do_sample: Overrides whether the preset samples.
        num_beams: Overrides the preset's beam width.
        repetition_penalty: Overrides the preset's repetition penalty.
        no_repeat_ngram_size: Overrides the preset's banned n-gram size.
        max_new_tokens: Tokens to generate per prompt; beyond the model's context the window slides
            (the oldest tokens leave it), so a 64-token model can still write 200.
        seed: Sampling seed: the same seed (with the same prompts and settings) gives the same text.
        jsonl: Also write one JSON line per sample here: prompt, continuation, sample number, seed, the
            strategy's settings, max_new_tokens, stop and the model.
        num_samples: Samples per prompt (a strategy that does not sample repeats its one answer).
        stop: Stop strings, space-separated or the option repeated (\\n stands for a line break): a sample
            ends with the first one it writes (transformers' stop_strings).

    Returns:
        The records that ``jsonl`` holds, one per sample.
    """
    prompts = read_prompts(prompt, prompts_file)
    stop = [text.replace("\\n", "\n") for text in stop or []]
    check_generation_controls(num_samples, stop)  # before the model loads
    overrides = {
        "temperature": temperature,
        "top_k": top_k,
        "top_p": top_p,
        "typical_p": typical_p,
        "min_p": min_p,
        "do_sample": do_sample,
        "num_beams": num_beams,
        "repetition_penalty": repetition_penalty,
        "no_repeat_ngram_size": no_repeat_ngram_size,
    }
    chosen = customised(strategy, overrides)
    loaded, tokenizer = load_model_and_tokenizer(model)
    prompts = coded_prompts(loaded, prompts, genre)
    samples = generate_samples(
        loaded, tokenizer, prompts, chosen, max_new_tokens, seed, num_samples=num_samples, stop=stop
    )
    settings = {"max_new_tokens": max_new_tokens, "stop": stop, "num_samples": num_samples, "model": model}
    records = []
    for index, (text_prompt, text) in enumerate(zip(samples.prompts, samples.texts)):
        number = index % num_samples
        label = f" | sample {number + 1} of {num_samples}" if num_samples > 1 else ""
        print(f"=== {chosen.name} | seed {seed}{label} ===\n{text_prompt}{text}\n")
        record = {"prompt": text_prompt, "continuation": text, "sample": number, "seed": seed}
        records.append(record | dataclasses.asdict(chosen) | settings)
    if jsonl:
        with Path(jsonl).open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(record) + "\n" for record in records)
        print(f"Wrote {len(records)} line(s) to {jsonl}")
    return records
