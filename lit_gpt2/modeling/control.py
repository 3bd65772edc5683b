"""Genre control codes (CTRL-style, Keskar et al. 2019): each training script starts with a code for its
genre, so that a prompt starting with that code asks for that genre (docs/control-codes.md). How well a
model tells the genres apart by its codes is ``lit_gpt2.evaluation.genre``."""

from collections.abc import Sequence
from typing import Literal

import torch
from transformers import PreTrainedTokenizerBase

from lit_gpt2.errors import UserInputError

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
