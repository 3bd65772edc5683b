"""Genre control codes (CTRL-style, Keskar et al. 2019): each training script starts with a code for its
genre, so that a prompt starting with that code asks for that genre (docs/control-codes.md)."""

import random
from collections.abc import Sequence
from typing import Literal

import torch
from torchmetrics.functional.classification import multiclass_confusion_matrix
from transformers import PreTrainedTokenizerBase

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.inference import inference_pass

ControlFormat = Literal["special", "text"]


def control_code(genre: str, control_format: ControlFormat) -> str:
    """The text of one genre's code: a special token ``<|genre:noir|>``, or a plain-text line ``[noir]``."""
    return f"<|genre:{genre}|>" if control_format == "special" else f"[{genre}]\n"


def add_control_codes(
    tokenizer: PreTrainedTokenizerBase, genres: Sequence[str], control_format: ControlFormat
) -> PreTrainedTokenizerBase:
    """Give each genre's code one special token (``special`` format; the model's embedding grows by as
    many rows); plain-text codes are ordinary text and need nothing. Returns the tokenizer."""
    if control_format == "special":
        tokenizer.add_tokens([control_code(genre, control_format) for genre in genres], special_tokens=True)
    return tokenizer


def code_labels_masked(input_ids: torch.Tensor, code_ids: torch.Tensor) -> torch.Tensor:
    """Labels for a batch where the code tokens are no target (-100): the code is given, never
    predicted. As a target it is not text: it would teach the model to write codes after an
    end-of-text, and its loss (zero bytes) would count in the text's bits per byte."""
    return input_ids.masked_fill(torch.isin(input_ids, code_ids.to(input_ids.device)), -100)


def coded_scripts(n_scripts: int, uncoded_fraction: float, seed: int) -> list[bool]:
    """Which scripts get their code: all but a seeded ``uncoded_fraction`` of them, so the model still
    writes without one."""
    rng = random.Random(seed)
    return [rng.random() >= uncoded_fraction for _ in range(n_scripts)]


def check_genre(genre: str, genres: Sequence[str]) -> str:
    """``genre`` if the model was trained with its code; else one line that lists the known genres."""
    if not genres:
        raise UserInputError(f"genre {genre!r}: this model was trained without genre codes (data.control=genre)")
    if genre not in genres:
        raise UserInputError(f"unknown genre {genre!r}: this model knows {', '.join(genres)}")
    return genre


def _recorded_codes(model: torch.nn.Module) -> dict:
    """What the model's config records of its codes (``{"format": ..., "genres": [...]}``; none: {})."""
    return getattr(model.config, "control_codes", None) or {}


def model_genres(model: torch.nn.Module) -> list[str]:
    """The genres whose codes ``model`` was trained with, as its config records them (none: [])."""
    return list(_recorded_codes(model).get("genres", []))


def genre_prompt(model: torch.nn.Module, genre: str) -> str:
    """The code to put before a prompt to ask ``model`` for ``genre``, as its config records its codes."""
    recorded = _recorded_codes(model)
    return control_code(check_genre(genre, recorded.get("genres", [])), recorded.get("format", "special"))


def coded_prompts(model: torch.nn.Module, prompts: Sequence[str], genre: str | None) -> list[str]:
    """``prompts`` asking ``model`` for ``genre`` (each starts with its code); unchanged for None."""
    return list(prompts) if genre is None else [genre_prompt(model, genre) + prompt for prompt in prompts]


def genre_accuracy(nll: torch.Tensor, labels: Sequence[int]) -> float:
    """Share of scripts whose own genre's code gives them the lowest loss.

    ``nll``: (scripts, genres), the mean negative log-likelihood of each script's tokens after each
    genre's code; ``labels``: each script's genre index. Ties go to the first genre. Chance is
    1 / genres.
    """
    if nll.shape[0] == 0:
        return float("nan")
    guessed = nll.argmin(dim=1)
    return (guessed == torch.as_tensor(labels, device=guessed.device)).float().mean().item()


def genre_confusion(nll: torch.Tensor, labels: Sequence[int]) -> torch.Tensor:
    """(genres, genres) counts of scripts by own genre (rows) and the genre whose code gives them the
    lowest loss (columns), from the same ``nll`` as ``genre_accuracy``: its diagonal is what that counts."""
    guessed = nll.argmin(dim=1)
    truth = torch.as_tensor(labels, device=guessed.device)
    return multiclass_confusion_matrix(guessed, truth, num_classes=nll.shape[1])


def code_nll(
    model: torch.nn.Module, code_ids: Sequence[Sequence[int]], scripts: Sequence[Sequence[int]], batch_size: int = 64
) -> torch.Tensor:
    """Mean NLL (nats) of each script's tokens after each code: a (scripts, codes) matrix for
    ``genre_accuracy``. The code's own tokens are not scored; one forward pass per batch of pairs."""
    device = next(model.parameters()).device
    limit = model.config.n_positions  # a script too long for the context is cut after the code
    pairs = [(code, script[: limit - len(code)]) for script in scripts for code in code_ids]
    losses = []
    with inference_pass(model):
        for start in range(0, len(pairs), batch_size):
            chunk = pairs[start : start + batch_size]
            width = max(len(c) + len(s) for c, s in chunk)
            ids = torch.zeros(len(chunk), width, dtype=torch.long)
            labels = torch.full((len(chunk), width), -100, dtype=torch.long)
            for row, (code, script) in enumerate(chunk):
                sequence = torch.tensor([*code, *script])
                ids[row, : len(sequence)] = sequence
                labels[row, len(code) : len(sequence)] = sequence[len(code) :]
            logits = model(input_ids=ids.to(device)).logits[:, :-1].float()
            targets = labels[:, 1:].to(device)
            # Classes last, rows flattened: over a (batch, vocab, tokens) view, the CPU kernel is ~7x slower.
            token_nll = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none"
            ).view(targets.shape)
            counts = (targets != -100).sum(dim=1).clamp(min=1)
            losses.append((token_nll.sum(dim=1) / counts).cpu())
    return torch.cat(losses).view(len(scripts), len(code_ids))
