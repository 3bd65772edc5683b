"""Training a small byte-level BPE tokenizer, GPT-2 style, for small models trained from scratch.

A from-scratch model on a small corpus spends most of its parameters and compute on GPT-2's 50,257-row
embedding and output layer; a vocabulary of a few thousand tokens fitted to the corpus is far cheaper.
"""

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import tokenizers
from transformers import PreTrainedTokenizerBase

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.tokenizer import load_tokenizer, packaged_gpt2_tokenizer


def train_bpe_tokenizer(texts: Sequence[str], vocab_size: int, directory: str | Path) -> PreTrainedTokenizerBase:
    """Train on ``texts``, save to ``directory`` (loadable by ``AutoTokenizer``) and return it.

    GPT-2's own tokenizer retrained (``train_new_from_iterator``): the same byte-level alphabet (never
    an unknown token), pre-tokenisation and ``<|endoftext|>``, only the merges fitted to ``texts``.
    """
    if vocab_size < 257:
        raise UserInputError(
            f"vocab_size={vocab_size} is too small: byte-level BPE needs at least 257 (256 bytes + end-of-text)"
        )
    tokenizer = packaged_gpt2_tokenizer().train_new_from_iterator(texts, vocab_size=vocab_size)
    tokenizer.save_pretrained(directory)
    return load_tokenizer(str(directory))


def cached_bpe_tokenizer(texts: Sequence[str], vocab_size: int, cache_root: str | Path) -> Path:
    """The directory of a BPE tokenizer fitted to ``texts``, trained once and then reused.

    Keyed by the texts, the vocabulary size and the ``tokenizers`` version, so a changed corpus gets a
    new vocabulary and an unchanged one the same, on every run and every rank.
    """
    digest = hashlib.sha256(f"{vocab_size}|{tokenizers.__version__}".encode())
    for text in texts:
        digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
    directory = Path(cache_root) / f"bpe-{vocab_size}-{digest.hexdigest()[:16]}"
    if (directory / "tokenizer.json").exists() and not _loads(directory / "tokenizer.json"):
        print(f"lit-gpt2: the fitted tokenizer {directory} is damaged: fitting it again", file=sys.stderr, flush=True)
        doomed = directory.with_name(f"{directory.name}.damaged-{os.getpid()}")
        directory.rename(doomed)  # one rename: a concurrent reader never sees half a folder
        shutil.rmtree(doomed, ignore_errors=True)
    if not (directory / "tokenizer.json").exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".training-"))
        try:
            train_bpe_tokenizer(texts, vocab_size, scratch)
            scratch.rename(directory)  # atomic: a concurrent reader sees all of it or nothing
        except OSError:
            if not (directory / "tokenizer.json").exists():
                raise
            # another process finished first: keep its copy
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return directory


def _loads(tokenizer_json: Path) -> bool:
    """Whether a saved ``tokenizer.json`` parses (a truncated one, e.g. after a full disk, does not)."""
    try:
        tokenizers.Tokenizer.from_file(str(tokenizer_json))
    except Exception:  # the Rust parser raises a bare Exception for malformed JSON
        return False
    return True
