"""The token cache: a corpus tokenised and packed into one flat uint16/int32 file per split
(``blocks.py``), which training reads memory-mapped.

A folder under the corpus's ``cache_root``, keyed by the sources, the tokenizer's vocabulary and the
settings; built beside its place in ``num_proc`` processes (``prepare.py``) and renamed into place when
complete; its ``meta.json`` (written last) records each split's token count and checksum, against which a
damaged folder is found and rebuilt.
"""

import hashlib
import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import datasets
import numpy as np
from lightning.pytorch.utilities import rank_zero_info
from transformers import PreTrainedTokenizerBase

from lit_gpt2.data.blocks import BlockDataset, stream_checksum, token_dtype, write_streams
from lit_gpt2.data.codes import coded_scripts
from lit_gpt2.data.corpus import Corpus, report_text
from lit_gpt2.data.prepare import tokenize_scripts
from lit_gpt2.data.sources import read_script
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import control_code

T = TypeVar("T")

# Bump when the processing below (decoding, normalisation, tokenisation, packing) changes, so stale
# caches are not reused: the key holds the sources and settings, not the code.
PIPELINE_VERSION = 3  # 2: a test split beside train and validation; 3: flat uint16/int32 streams, memory-mapped
SPLITS = ("train", "validation", "test")
META = "meta.json"  # written last: a cache folder without it is incomplete
# What each split is when the text is split by position, and what gives a split too small more text.
_POSITION_SHARES = {
    "train": "the text before the held-out parts",
    "validation": "the last {val_fraction:.0%} of the text",
    "test": "the {test_fraction:.0%} of the text before validation",
}
_POSITION_FIXES = {
    "train": "lower data.val_fraction and data.test_fraction",
    "validation": "raise data.val_fraction",
    "test": "raise data.test_fraction (or set it to 0)",
}


@dataclass(frozen=True)
class TokenCache:
    """A corpus's tokens in blocks of ``block_size``, cached (see ``MovieScriptsDataModule`` for
    ``uncoded_fraction``, ``num_proc`` and ``cache_key``)."""

    corpus: Corpus
    block_size: int
    uncoded_fraction: float = 0.1
    num_proc: int | None = None
    cache_key: Literal["stat", "contents"] = "stat"

    def blocks(self, tokenizer: PreTrainedTokenizerBase) -> tuple[dict[str, BlockDataset], bool]:
        """Each split's blocks, read from the cache (built first when missing or damaged), and whether
        the text was split by position (too few documents to split by script)."""
        corpus = self.corpus
        files = corpus.files
        if files is None:  # a table or hub dataset: read whole, as the builders give it
            table = corpus.documents()[0]
            n_documents = len(table)
        else:
            table, n_documents = None, len(files)
        by_position = corpus.by_position(n_documents)
        if by_position and corpus.control:
            raise UserInputError(
                f"data.control=genre codes whole scripts, and {corpus.source} holds {n_documents} document(s), too "
                "few to split by script: give one screenplay per file (or per row)"
            )
        how = "by position (too few documents to split by script)" if by_position else "by whole script"
        rank_zero_info(f"data: {corpus.label}: {n_documents} document(s), split {how}; {corpus.normalisation_note()}.")
        cache = self.path(files, table, tokenizer, by_position)
        damage = cache_damage(cache) if (cache / META).exists() else None
        if damage is not None:
            print(f"lit-gpt2: the data cache {cache} is damaged ({damage}): rebuilding it", file=sys.stderr, flush=True)
            discard(cache)
        if not (cache / META).exists():
            self.build(files, table, tokenizer, cache, by_position)
        meta = json.loads((cache / META).read_text())
        splits = {name: BlockDataset(cache / f"{name}.bin", meta["dtype"], self.block_size) for name in meta["splits"]}
        return splits, by_position

    def path(
        self,
        files: list[Path] | None,
        table: datasets.Dataset | None,
        tokenizer: PreTrainedTokenizerBase,
        by_position: bool = False,
    ) -> Path:
        """A folder keyed by the scripts (see ``cache_key``), the tokenizer's vocabulary, and the settings:
        the normalisation as decided (not as asked), and the split mode when it is by position (a folder
        that loses files until one is left changes mode, and must not reuse a cache of the other)."""
        corpus = self.corpus
        settings: dict[str, object] = {
            "block_size": self.block_size,
            "val_fraction": corpus.val_fraction,
            "test_fraction": corpus.test_fraction,
            "seed": corpus.seed,
            "control": corpus.control,
            "control_format": corpus.control_format,
            "normalize": corpus.normalising,
        }
        settings |= ({"uncoded_fraction": self.uncoded_fraction} if corpus.control else {}) | (
            {"split": "position"} if by_position else {}
        )
        by_stat = files is not None and corpus.source is not None and self.cache_key == "stat"
        digest = hashlib.sha256(json.dumps([PIPELINE_VERSION, settings, by_stat], sort_keys=True).encode())
        # The vocabulary itself, not its name: a retrained tokenizer saved at the same path gets a new key.
        digest.update(tokenizer.backend_tokenizer.to_str().encode())
        if table is not None:
            for text in table["text"]:
                digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
        elif by_stat:
            for file in _given(files, "files"):
                stat = file.stat()
                digest.update(f"{file.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        else:
            for file in _given(files, "files"):
                digest.update(_sha256(file))
        return corpus.cache_root / digest.hexdigest()[:24]

    def build(
        self,
        files: list[Path] | None,
        table: datasets.Dataset | None,
        tokenizer: PreTrainedTokenizerBase,
        cache: Path,
        by_position: bool = False,
    ) -> None:
        """Tokenize in ``num_proc`` processes and write each split's stream to ``cache`` (atomically)."""
        corpus, block_size = self.corpus, self.block_size
        split: Sequence[list[int]]  # the train, validation and test rows of ``scripts``
        if by_position:  # one or two documents: read whole, cut into pieces of text, one split each
            texts = (
                list(table["text"]) if table is not None else [read_script(file)[0] for file in _given(files, "files")]
            )
            scripts, split = corpus.position_pieces(texts)
            scripts = scripts.select_columns(["text"])
            mean_bytes = sum(map(len, texts)) / len(scripts)
        elif files is not None:
            scripts = datasets.Dataset.from_dict({"path": [str(file) for file in files]})
            mean_bytes = sum(file.stat().st_size for file in files) / len(files)
        else:
            scripts = _given(table, "table").select_columns(["text"])
            mean_bytes = sum(map(len, scripts["text"])) / len(scripts)
        if corpus.control:
            coded = coded_scripts(len(scripts), self.uncoded_fraction, corpus.seed)
            prefixes = [control_code(g, corpus.control_format) if c else "" for g, c in zip(corpus.genres, coded)]
            scripts = scripts.add_column("prefix", prefixes)
        if not by_position:
            split = corpus.split(len(scripts))  # before tokenizing: too few scripts fails at once
        # Every process that builds says so (not rank zero only): one line per node in a multi-node run.
        print(f"lit-gpt2: building the data cache {cache} on {socket.gethostname()}", file=sys.stderr, flush=True)
        # Built beside its final place and renamed at the end, so a reader (another node, an interrupted
        # run) never takes a half-written folder for a cache.
        work = cache.with_name(f"{cache.name}.partial-{socket.gethostname()}-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            num_proc = self.num_proc or len(os.sched_getaffinity(0))
            arrow_file = work / "tokens" / "tokens.arrow"
            normalise = corpus.normalising
            tokens = tokenize_scripts(scripts, tokenizer, normalise, num_proc, mean_bytes, arrow_file, cache.name)
            _report(tokens, corpus)
            # No test split when not asked for.
            kept = [(name, indices) for name, indices in zip(SPLITS, split) if name != "test" or corpus.test_fraction]
            names = [name for name, _ in kept]
            destination = np.full(len(scripts), -1, dtype=np.int64)
            for number, (_, indices) in enumerate(kept):
                destination[indices] = number
            dtype = token_dtype(len(tokenizer))
            counts = write_streams(_rows(tokens, destination), [work / f"{name}.bin" for name in names], dtype)
            fractions = {"val_fraction": corpus.val_fraction, "test_fraction": corpus.test_fraction}
            for (name, indices), n_tokens in zip(kept, counts):
                n_blocks = n_tokens // block_size
                where = _POSITION_SHARES[name].format(**fractions) if by_position else f"{len(indices)} scripts"
                if n_blocks == 0:
                    fix = _POSITION_FIXES[name] if by_position else "add scripts"
                    raise UserInputError(
                        f"the {name} split ({where}, {n_tokens} tokens) is smaller than one block of "
                        f"data.block_size={block_size}: lower data.block_size or {fix}"
                    )
                rank_zero_info(
                    f"{name}: {where}, {n_blocks * block_size:,} tokens in {n_blocks} blocks of "
                    f"{block_size} ({n_tokens % block_size} trailing tokens dropped)."
                )
            del tokens
            shutil.rmtree(work / "tokens")
            meta = {
                "version": PIPELINE_VERSION,
                "dtype": dtype.name,
                "splits": dict(zip(names, counts)),
                "checksums": {name: stream_checksum(work / f"{name}.bin") for name in names},
            }
            (work / META).write_text(json.dumps(meta))
            try:
                work.rename(cache)
            except OSError:
                if not (cache / META).exists():  # not another process finishing the same cache first
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _report(tokens: datasets.Dataset, corpus: Corpus) -> None:
    """Refuse a corpus of blank scripts; then what reading did to the text, as the corpus reports it."""
    columns = tokens.data
    if columns.column("blank").to_numpy().all():
        raise UserInputError(f"every script in {corpus.label} is empty: the source has no text to train on")
    bad_bytes = columns.column("bad_bytes").to_numpy()
    raw_chars, chars = columns.column("raw_chars").to_numpy().sum(), columns.column("chars").to_numpy().sum()
    report_text(int(np.count_nonzero(bad_bytes)), bad_bytes.sum(), corpus.normalising, raw_chars, chars)


def _given(value: T | None, what: str) -> T:
    """``value``, which the caller gives: the corpus's files, or its table when it has no files."""
    if value is None:
        raise ValueError(f"no {what}: a token cache needs the corpus's files, else its table")
    return value


def _sha256(file: Path) -> bytes:
    """The SHA-256 of a file's bytes, read a MiB at a time (``hashlib.file_digest`` is Python 3.11+)."""
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while chunk := handle.read(2**20):
            digest.update(chunk)
    return digest.digest()


def cache_damage(cache: Path) -> str | None:
    """What is wrong with a finished cache folder, or None: each split's file must hold the tokens its
    ``meta.json`` counts and match the checksum recorded there (caches built before checksums were
    recorded are checked by size alone)."""
    try:
        meta = json.loads((cache / META).read_text())
        itemsize = np.dtype(meta["dtype"]).itemsize
        for name, count in meta["splits"].items():
            path = cache / f"{name}.bin"
            if not path.is_file():
                return f"{path.name} is missing"
            size, expected = path.stat().st_size, count * itemsize
            if size != expected:
                return f"{path.name} holds {size:,} bytes where {META} records {expected:,}"
            checksum = meta.get("checksums", {}).get(name)
            if checksum is not None and stream_checksum(path) != checksum:
                return f"{path.name} does not match the checksum {META} records"
    except (ValueError, KeyError, TypeError, AttributeError):  # unreadable JSON, or not the fields written
        return f"{META} is malformed"
    return None


def discard(cache: Path) -> None:
    """Move a damaged cache out of the way (one rename, so a concurrent reader never sees half of it)."""
    doomed = cache.with_name(f"{cache.name}.damaged-{socket.gethostname()}-{os.getpid()}")
    try:
        cache.rename(doomed)
    except FileNotFoundError:
        return  # another process moved it first
    shutil.rmtree(doomed, ignore_errors=True)


def _rows(tokens: datasets.Dataset, destination: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """``(destination, token ids)`` of every script with a destination, in script order, from the
    memory-mapped Arrow chunks (no copy, one chunk's pages at a time)."""
    row = 0
    for chunk in tokens.data.column("ids").chunks:
        offsets = chunk.offsets.to_numpy()
        values = chunk.flatten().to_numpy()
        offsets = offsets - offsets[0]
        for j in range(len(chunk)):
            if destination[row] >= 0:
                yield int(destination[row]), values[offsets[j] : offsets[j + 1]]
            row += 1
