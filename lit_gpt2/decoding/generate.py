"""Batched, seeded generation for a set of prompts under one strategy, and scoring of what came out."""

import time
import warnings
from dataclasses import dataclass

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from lit_gpt2.decoding.strategies import DecodingStrategy
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.inference import inference_pass

# A scene heading (the model writes action) and a character cue (it writes dialogue).
DEFAULT_PROMPTS = (
    "INT. DINER - NIGHT\n\n",
    "EXT. CITY ROOFTOP - DAY\n\nA woman in a red coat stands at the edge.\n\nDETECTIVE\n",
)


@dataclass
class Samples:
    """One strategy's continuations of every prompt; ids stop before the first end-of-text."""

    strategy: DecodingStrategy
    prompts: list[str]
    prompt_ids: list[list[int]]
    continuations: list[list[int]]
    texts: list[str]
    seconds: float

    def markdown(self) -> str:
        """A markdown table, prompt | continuation, with line breaks kept visible."""

        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", "<br>") or "(empty)"

        rows = [f"| {cell(p)} | {cell(t)} |" for p, t in zip(self.prompts, self.texts)]
        return "\n".join(["| prompt | continuation |", "|---|---|", *rows])


def encode_prompts(
    tokenizer: PreTrainedTokenizerBase, prompts: list[str], context_length: int, max_new_tokens: int
) -> list[list[int]]:
    """Token ids per prompt, left-truncated (with a warning) so prompt plus continuation fit the context."""
    room = context_length - max_new_tokens
    if room < 1:
        raise UserInputError(
            f"max_new_tokens={max_new_tokens} leaves no room for a prompt in the model's {context_length}-token "
            f"context: use at most {context_length - 1}"
        )
    encoded = []
    for prompt, ids in zip(prompts, tokenizer(prompts, verbose=False)["input_ids"]):
        if len(ids) > room:
            warnings.warn(
                f"prompt {prompt[:30]!r}... has {len(ids)} tokens; keeping its last {room} so that "
                f"{max_new_tokens} new tokens fit the {context_length}-token context",
                stacklevel=2,
            )
            ids = ids[-room:]
        encoded.append(ids or [tokenizer.eos_token_id])  # an empty prompt starts from end-of-text
    return encoded


def generate_samples(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompts: list[str],
    strategy: DecodingStrategy,
    max_new_tokens: int,
    seed: int,
    synced_gpus: bool = False,
) -> Samples:
    """Continue every prompt in one batch; the RNG is forked, so training randomness is untouched.

    ``synced_gpus`` must be set on every rank when the model is sharded (FSDP, DeepSpeed stage 3).
    """
    device = next(model.parameters()).device
    prompt_ids = encode_prompts(tokenizer, prompts, model.config.n_positions, max_new_tokens)
    # Padding on the left, where a causal model's generation does not see it.
    batch = tokenizer.pad({"input_ids": prompt_ids}, padding=True, padding_side="left", return_tensors="pt").to(device)
    config = strategy.generation_config(max_new_tokens, tokenizer.pad_token_id, tokenizer.eos_token_id)
    with inference_pass(model), _forked_rng(device):
        torch.manual_seed(seed)
        start = time.perf_counter()
        output = model.generate(**batch, generation_config=config, synced_gpus=synced_gpus)
        seconds = time.perf_counter() - start
    new_tokens = output[:, batch["input_ids"].shape[1] :]
    continuations = [_until_eos(row.tolist(), tokenizer.eos_token_id) for row in new_tokens]
    texts = tokenizer.batch_decode(continuations)
    return Samples(strategy, list(prompts), prompt_ids, continuations, texts, seconds)


def continuation_nll(model: PreTrainedModel, samples: Samples) -> float:
    """Sum of NLL of every generated token given its prompt, under the model's raw (untempered) logits."""
    device = next(model.parameters()).device
    total = 0.0
    with inference_pass(model):
        for prompt, continuation in zip(samples.prompt_ids, samples.continuations):
            if not continuation:
                continue
            ids = torch.tensor([prompt + continuation], device=device)
            logits = model(input_ids=ids).logits[0, len(prompt) - 1 : -1].float()
            target = torch.tensor(continuation, device=device)
            total += torch.nn.functional.cross_entropy(logits, target, reduction="sum").item()
    return total


def _until_eos(ids: list[int], eos_token_id: int) -> list[int]:
    return ids[: ids.index(eos_token_id)] if eos_token_id in ids else ids


def _forked_rng(device: torch.device):
    devices = [device.index or 0] if device.type == "cuda" else []
    return torch.random.fork_rng(devices=devices)
