"""Batched, seeded generation for a set of prompts under one strategy, and scoring of what came out.

Several samples per prompt, stop strings (transformers' ``stop_strings``), and generation longer than
the model's context by a sliding window: once prompt and continuation fill the context, the oldest
tokens leave the window and generation goes on from the last ``context - stride`` tokens
(docs/generation.md).
"""

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import GenerationConfig, GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.decoding.strategies import DecodingStrategy
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.inference import inference_pass
from lit_gpt2.modeling.lean_decode import lean_decoding

# A scene heading (the model writes action) and a character cue (it writes dialogue).
DEFAULT_PROMPTS = (
    "INT. DINER - NIGHT\n\n",
    "EXT. CITY ROOFTOP - DAY\n\nA woman in a red coat stands at the edge.\n\nDETECTIVE\n",
)


@dataclass
class Samples:
    """One strategy's continuations of every prompt (``samples_per_prompt`` each, one after the other,
    the prompt repeated in ``prompts``); ids stop before the first end-of-text, and a text ends with the
    stop string that ended it."""

    strategy: DecodingStrategy
    prompts: list[str]
    prompt_ids: list[list[int]]
    continuations: list[list[int]]
    texts: list[str]
    seconds: float
    samples_per_prompt: int = 1

    def markdown(self) -> str:
        """A markdown table, prompt | continuation, with line breaks kept visible."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", "<br>") or "(empty)"

        rows = [f"| {cell(p)} | {cell(t)} |" for p, t in zip(self.prompts, self.texts)]
        return "\n".join(["| prompt | continuation |", "|---|---|", *rows])


def window_stride(context_length: int) -> int:
    """Tokens generated per step once the sliding window is full: a quarter of the context, so every new
    token still sees at least three quarters of a context before it."""
    return max(1, context_length // 4)


def encode_prompts(
    tokenizer: PreTrainedTokenizerBase, prompts: list[str], context_length: int, max_new_tokens: int
) -> list[list[int]]:
    """Token ids per prompt, left-truncated (with a warning) to what the first window holds: room for the
    whole continuation when it is short, else for one stride of it (the window slides after that)."""
    room = context_length - min(max_new_tokens, window_stride(context_length))
    encoded = []
    for prompt, ids in zip(prompts, tokenizer(prompts, verbose=False)["input_ids"]):
        if len(ids) > room:
            warnings.warn(
                f"prompt {prompt[:30]!r}... has {len(ids)} tokens; keeping its last {room} so that "
                f"{min(max_new_tokens, context_length - room)} new tokens fit the {context_length}-token context",
                stacklevel=2,
            )
            ids = ids[-room:]
        encoded.append(ids or [tokenizer.eos_token_id])  # an empty prompt starts from end-of-text
    return encoded


def generate_samples(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    strategy: DecodingStrategy,
    max_new_tokens: int,
    seed: int,
    synced_gpus: bool = False,
    num_samples: int = 1,
    stop: Sequence[str] = (),
) -> Samples:
    """Continue every prompt ``num_samples`` times in one batch; the RNG is forked, so training randomness
    is untouched, and the same seed gives the same samples.

    ``stop``: strings that end a continuation (it keeps the stop string). A strategy that does not
    sample writes one continuation per prompt, repeated ``num_samples`` times. Prompt plus
    ``max_new_tokens`` beyond the model's context slide the window (module docstring).
    ``synced_gpus`` must be set on every rank when the model is sharded (FSDP, DeepSpeed stage 3).
    """
    check_generation_controls(num_samples, stop)
    device = next(model.parameters()).device
    prompt_ids = encode_prompts(tokenizer, prompts, model.config.n_positions, max_new_tokens)
    config = strategy.generation_config(max_new_tokens, tokenizer.pad_token_id, tokenizer.eos_token_id)
    if stop:
        config.stop_strings = list(stop)
    copies = num_samples if strategy.do_sample else 1  # greedy and beam search give one answer
    rows = [ids for ids in prompt_ids for _ in range(copies)]
    with inference_pass(model), _forked_rng(device):
        torch.manual_seed(seed)
        start = time.perf_counter()
        generated = _generate_sliding(model, tokenizer, rows, config, max_new_tokens, stop, synced_gpus)
        seconds = time.perf_counter() - start
    continuations = [ids for ids in generated for _ in range(num_samples // copies)]
    texts = [_through_stop(text, stop) for text in tokenizer.batch_decode(continuations)]
    repeated = [prompt for prompt in prompts for _ in range(num_samples)]
    prompt_rows = [ids for ids in prompt_ids for _ in range(num_samples)]
    return Samples(strategy, repeated, prompt_rows, continuations, texts, seconds, num_samples)


def check_generation_controls(num_samples: int, stop: Sequence[str]) -> None:
    """Refuse, in one line each, a sample count below one and an empty stop string."""
    if num_samples < 1:
        raise UserInputError(f"num_samples={num_samples} must be at least 1 (samples per prompt)")
    if any(not text for text in stop):
        raise UserInputError("a stop string is empty (it would stop at once): give text, e.g. --stop '\\n\\n'")


def _generate_sliding(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[list[int]],
    config: GenerationConfig,
    max_new_tokens: int,
    stop: Sequence[str],
    synced_gpus: bool,
) -> list[list[int]]:
    """Each row's new tokens (up to end-of-text): one ``generate`` call when prompt and continuation fit
    the context, else one per window, each starting from the last ``context - stride`` tokens."""
    context = model.config.n_positions
    stride = window_stride(context)
    new: list[list[int]] = [[] for _ in rows]
    active = list(range(len(rows)))
    while active:
        remaining = max_new_tokens - len(new[active[0]])  # every active row has written as many
        keep = context - min(remaining, stride)
        windows = [(rows[i] + new[i])[-keep:] for i in active]
        steps = min(remaining, context - max(map(len, windows)))
        config.max_new_tokens = steps
        written = _generate_once(model, tokenizer, windows, config, synced_gpus)
        still = []
        for i, ids in zip(active, written):
            new[i] += ids
            ended = len(ids) < steps or (stop and any(s in tokenizer.decode(new[i]) for s in stop))
            if not ended and len(new[i]) < max_new_tokens:
                still.append(i)
        active = still
    config.max_new_tokens = max_new_tokens
    return new


def _generate_once(
    model: GPT2LMHeadModel,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[list[int]],
    config: GenerationConfig,
    synced_gpus: bool,
) -> list[list[int]]:
    device = next(model.parameters()).device
    # Padding on the left, where a causal model's generation does not see it.
    batch = tokenizer.pad({"input_ids": rows}, padding=True, padding_side="left", return_tensors="pt").to(device)
    # The tokenizer lets transformers match stop strings across token boundaries.
    extra = {"tokenizer": tokenizer} if config.stop_strings else {}
    # Sharded weights are gathered by the modules' hooks, which the lean step would skip.
    with lean_decoding(model, enabled=not synced_gpus):
        output = model.generate(**batch, generation_config=config, synced_gpus=synced_gpus, **extra)
    return [_until_eos(row.tolist(), tokenizer.eos_token_id) for row in output[:, batch["input_ids"].shape[1] :]]


def _through_stop(text: str, stop: Sequence[str]) -> str:
    """``text`` up to the end of its first stop string (the last token may run past it)."""
    ends = [text.index(s) + len(s) for s in stop if s in text]
    return text[: min(ends)] if ends else text


def continuation_nll(model: GPT2LMHeadModel, samples: Samples) -> float:
    """Sum of NLL of every generated token given its prompt, under the model's raw (untempered) logits;
    past the context, each stride of tokens is scored with the ``context - stride`` or more tokens before it."""
    context = model.config.n_positions
    rows = list(zip(samples.prompt_ids, samples.continuations))
    short = [(p, c) for p, c in rows if c and len(p) + len(c) <= context]
    long = [(p, c) for p, c in rows if len(p) + len(c) > context]
    with inference_pass(model):
        total = _short_rows_nll(model, short) if short else 0.0
        return total + sum(_sliding_nll(model, p + c, len(p)) for p, c in long)


def _short_rows_nll(model: GPT2LMHeadModel, rows: list[tuple[list[int], list[int]]]) -> float:
    """The rows that fit the context in one forward pass, padded on the right: a causal model's earlier
    positions never see the padding after them, so each row is scored as if alone."""
    device = next(model.parameters()).device
    width = max(len(p) + len(c) for p, c in rows)
    ids = torch.zeros(len(rows), width, dtype=torch.long, device=device)
    targets = torch.full((len(rows), width), -100, dtype=torch.long, device=device)  # -100: not scored
    for row, (prompt, continuation) in enumerate(rows):
        full = torch.tensor(prompt + continuation, device=device)
        ids[row, : len(full)] = full
        targets[row, len(prompt) - 1 : len(full) - 1] = full[len(prompt) :]  # position i predicts token i + 1
    logits = model(input_ids=ids).logits.float()
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum").item()


def _sliding_nll(model: GPT2LMHeadModel, full: list[int], start: int) -> float:
    """NLL of ``full[start:]`` past the context: each stride of tokens after the ``context - stride`` or
    more before it."""
    device = next(model.parameters()).device
    context = model.config.n_positions
    total = 0.0
    while start < len(full):
        end = max(min(len(full), start + window_stride(context)), start + 1)
        first = max(0, end - context)
        ids = torch.tensor([full[first:end]], device=device)
        logits = model(input_ids=ids).logits[0, start - 1 - first : end - 1 - first].float()
        target = torch.tensor(full[start:end], device=device)
        total += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
        start = end
    return total


def _until_eos(ids: list[int], eos_token_id: int) -> list[int]:
    return ids[: ids.index(eos_token_id)] if eos_token_id in ids else ids


def _forked_rng(device: torch.device):
    devices = [device.index or 0] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=devices)
