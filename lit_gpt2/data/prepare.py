"""Streaming preparation: scripts -> decoded, normalised text -> tokens, in worker processes, onto disk.

Tokenisation runs through ``datasets.map(batched=True, num_proc=...)`` in batches of a few MiB of text,
and each batch is written to an Arrow file as soon as it is done, so neither the corpus's text nor its
token lists are ever held whole in Python objects. File sources are read inside the workers (the
parent holds only their paths).
"""

import signal
from pathlib import Path

import datasets
import multiprocess
import numpy as np
from transformers import PreTrainedTokenizerBase

from lit_gpt2.data.blocks import token_dtype
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import read_script

# Text per tokenizer call: big enough that per-batch overhead vanishes, small enough that one batch's
# Python token lists (about 30 bytes a token) stay in the tens of MiB.
_BATCH_BYTES = 4 * 2**20


def tokenize_scripts(
    scripts: datasets.Dataset,
    tokenizer: PreTrainedTokenizerBase,
    normalize: bool,
    num_proc: int,
    mean_script_bytes: float,
    arrow_file: Path,
    fingerprint: str,
) -> datasets.Dataset:
    """Tokenise every script (a ``path`` or a ``text`` column, and an optional ``prefix`` column of text put
    before it: its control code) into an on-disk dataset, in script order.

    Columns: ``ids`` (the script's tokens then end-of-text, in the stored dtype), ``raw_chars`` and
    ``chars`` (length before and after normalisation), ``bad_bytes`` (undecodable bytes replaced),
    ``blank`` (the script has no text).
    """
    dtype = token_dtype(len(tokenizer)).name
    features = datasets.Features(
        {
            "ids": datasets.List(datasets.Value(dtype)),
            "raw_chars": datasets.Value("int64"),
            "chars": datasets.Value("int64"),
            "bad_bytes": datasets.Value("int64"),
            "blank": datasets.Value("bool"),
        }
    )
    batch_size = int(np.clip(_BATCH_BYTES // max(1.0, mean_script_bytes), 1, 1000))
    return scripts.map(
        _tokenize_batch,
        batched=True,
        batch_size=batch_size,
        writer_batch_size=batch_size,
        num_proc=max(1, min(num_proc, len(scripts))),
        remove_columns=scripts.column_names,
        features=features,
        cache_file_name=str(arrow_file),
        new_fingerprint=fingerprint,  # the cache key already says what this is; hashing the tokenizer is waste
        fn_kwargs={"tokenizer": tokenizer, "normalize": normalize},
        desc="Tokenizing",
    )


def ignore_interrupts_in_pool_workers() -> None:
    """Ctrl-C reaches every process of the terminal's group: the parent stops the pool and reports in
    one line, so a tokenising worker ignores it rather than print its own traceback."""
    if "PoolWorker" in multiprocess.current_process().name:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _tokenize_batch(batch: dict[str, list], tokenizer: PreTrainedTokenizerBase, normalize: bool) -> dict[str, list]:
    ignore_interrupts_in_pool_workers()
    if "path" in batch:
        decoded = [read_script(Path(path)) for path in batch["path"]]
        texts, bad_bytes = [text for text, _ in decoded], [bad for _, bad in decoded]
    else:
        texts, bad_bytes = batch["text"], [0] * len(batch["text"])
    raw_chars = [len(text) for text in texts]
    if normalize:
        texts = [normalise_screenplay(text) for text in texts]
    if "prefix" in batch:  # control codes (data.control), put before the text as it is trained on
        texts = [prefix + text for prefix, text in zip(batch["prefix"], texts)]
    # The tokenizer's own length cap would warn on long scripts; packing cuts them into blocks instead.
    ids = tokenizer(texts, verbose=False)["input_ids"]
    eos = tokenizer.eos_token_id
    return {
        "ids": [[*script, eos] for script in ids],
        "raw_chars": raw_chars,
        "chars": [len(text) for text in texts],
        "bad_bytes": bad_bytes,
        "blank": [not text.strip() for text in texts],
    }
