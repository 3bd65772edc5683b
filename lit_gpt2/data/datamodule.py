"""The LightningDataModule: scripts -> normalised text -> split by script (or by position) -> tokens -> packed blocks.

Preparation streams (``prepare.py``: tokenised in ``num_proc`` processes, written as it goes) into one
flat uint16/int32 file per split (``blocks.py``), which training reads memory-mapped.
"""

import hashlib
import json
import os
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import datasets
import lightning as L
import numpy as np
import torch
from datasets.distributed import split_dataset_by_node
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, DistributedSampler
from transformers import PreTrainedTokenizerBase

from lit_gpt2.bounds import NonNegativeInt, plain
from lit_gpt2.data.blocks import BlockDataset, stream_checksum, token_dtype, write_streams
from lit_gpt2.data.prepare import tokenize_scripts
from lit_gpt2.data.screenplay import looks_like_screenplay, normalise_screenplay
from lit_gpt2.data.sources import load_scripts, read_script, read_script_start, stream_documents, text_files
from lit_gpt2.data.split import split_by_position, split_by_script, too_few_to_split_by_script
from lit_gpt2.data.streaming import InMemoryBlocks, StreamedBlocks, StreamPosition
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer
from lit_gpt2.modeling.bpe import cached_bpe_tokenizer
from lit_gpt2.modeling.control import ControlFormat, add_control_codes, code_labels_masked, coded_scripts, control_code

# Bump when the processing below (decoding, normalisation, tokenisation, packing) changes, so stale
# caches are not reused: the key holds the sources and settings, not the code.
_PIPELINE_VERSION = 3  # 2: a test split beside train and validation; 3: flat uint16/int32 streams, memory-mapped
_SPLITS = ("train", "validation", "test")
_META = "meta.json"  # written last: a cache folder without it is incomplete
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


class MovieScriptsDataModule(L.LightningDataModule):
    """Movie scripts as packed blocks of GPT-2 tokens, split by whole script.

    Args:
        source: Folder or glob of .txt screenplays, a CSV/JSONL/Parquet file, or a Hugging Face dataset
            name. ``None`` uses the original scenes shipped with the package.
        text_column: Column holding the script text (tables and hub datasets).
        title_column: Optional column with the script title, kept as metadata.
        genre_column: Optional column with the genre, kept as metadata.
        hub_split: Split to read from a hub dataset.
        hub_config: Configuration of a hub dataset that has several (e.g. ``wikitext-2-raw-v1``).
        tokenizer: Tokenizer name or directory (the CLI links it to the model's).
        train_tokenizer: Fit a byte-level BPE tokenizer of this many tokens to the training scripts
            (trained once, then cached by their contents) and use it for the data and the model instead
            of ``model.tokenizer``: far cheaper than GPT-2's 50,257 tokens for a small model trained from
            scratch. Not with pretrained weights, whose embeddings fit their own vocabulary.
        block_size: Tokens per training block; at most the model's context length.
        batch_size: Blocks per batch (per device).
        val_fraction: Fraction of scripts held out for validation (``fit``, ``validate``: picks the best
            checkpoint). A source with too few documents to split by script (one text file; two without
            a test split) is split by position instead: validation is the last ``val_fraction`` of its
            text, test the ``test_fraction`` before it, training the rest (docs/your-own-text.md).
        test_fraction: Fraction of scripts held out for ``test`` and ``predict`` only, never seen while
            choosing a checkpoint; 0 for none (then ``test`` is refused and ``predict`` reads validation).
        seed: Seed of the script-level split.
        normalize: Collapse screenplay indentation before tokenizing (saves tokens, keeps structure).
            Default (None): only when the source looks like screenplays (scene headings, character cues
            above dialogue); prose, plays and chat logs are kept as written. true/false forces it.
        num_workers: DataLoader worker processes.
        cache_dir: Where tokenized, packed blocks are cached; default: the ``datasets`` cache.
        num_proc: Processes that tokenize the scripts when the cache is built; ``None``: one per CPU core.
        cache_key: How a folder or glob of .txt scripts keys the cache: ``stat`` (path, size and
            modification time of each file: instant on gigabytes) or ``contents`` (every byte hashed:
            exact even if a file is rewritten with the same size within the clock's resolution). The
            embedded corpus, tables and hub datasets are always keyed by their text.
        streaming: Read a hub dataset (or a CSV/JSONL/Parquet file) as a stream, never copied to disk
            whole: validation is its first ``streaming_val_documents`` documents, training the rest,
            tokenised and packed on the fly in the training process (``num_workers=0``), each process of a
            multi-process run reading its own share. Needs ``trainer.max_steps`` (or an integer
            ``trainer.limit_train_batches``); each epoch reads the stream again from its start; a
            checkpoint holds the stream position, so a resumed run continues where it stopped (a run
            planned by ``max_steps``; resuming one planned by epochs is refused). No test
            split, no ``train_tokenizer``; ``val_fraction``, ``test_fraction``, ``cache_dir`` do not apply.
        streaming_val_documents: Documents held out for validation at the head of a stream.
        control: ``genre``: start each script with a control code for its genre (docs/control-codes.md),
            so that generation can ask for a genre. Genres come from the embedded corpus's folders, a
            folder per genre under ``source``, or ``genre_column``. The model learns the codes too (the
            CLI hands them over).
        control_format: ``special``: each code is one new special token ``<|genre:noir|>`` (the
            embedding grows); ``text``: a plain-text first line ``[noir]``.
        uncoded_fraction: Share of scripts left without a code (seeded), so the model still writes
            without one.
    """

    def __init__(
        self,
        source: str | None = None,
        text_column: str = "text",
        title_column: str | None = None,
        genre_column: str | None = None,
        hub_split: str = "train",
        hub_config: str | None = None,
        tokenizer: str = "gpt2",
        train_tokenizer: int | None = None,
        block_size: int = 256,
        batch_size: int = 8,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 42,
        normalize: bool | None = None,
        num_workers: NonNegativeInt = 0,
        cache_dir: str | None = None,
        num_proc: int | None = None,
        cache_key: Literal["stat", "contents"] = "stat",
        streaming: bool = False,
        streaming_val_documents: int = 100,
        control: Literal["genre"] | None = None,
        control_format: ControlFormat = "special",
        uncoded_fraction: float = 0.1,
    ) -> None:
        super().__init__()
        num_workers = plain(num_workers)
        if block_size < 2:
            raise UserInputError(f"data.block_size={block_size} is too small: use at least 2 (e.g. 256)")
        if batch_size < 1:
            raise UserInputError(f"data.batch_size={batch_size} must be at least 1")
        if num_proc is not None and num_proc < 1:
            raise UserInputError(f"data.num_proc={num_proc} must be at least 1 (or null for one per CPU core)")
        if streaming:
            if num_workers:
                raise UserInputError(
                    f"data.streaming reads the stream in the training process, whose position a checkpoint "
                    f"stores: set data.num_workers=0 (not {num_workers})"
                )
            if train_tokenizer:
                raise UserInputError("data.train_tokenizer reads every training script: not with data.streaming")
            if streaming_val_documents < 1:
                raise UserInputError(f"data.streaming_val_documents={streaming_val_documents} must be at least 1")
        if control and streaming:
            raise UserInputError("data.control reads every script's genre first: not with data.streaming")
        if not 0 <= uncoded_fraction < 1:
            raise UserInputError(f"data.uncoded_fraction={uncoded_fraction} must be in [0, 1)")
        self.save_hyperparameters()
        self.block_size = block_size
        self._genres: list[str] | None = None  # each script's genre, in source order (data.control)
        self._normalise: bool | None = None  # data.normalize, or what the source's layout says (normalising())
        self._code_ids: torch.Tensor | None = None  # the special code tokens, never a target (setup)
        self.splits: dict[str, BlockDataset] | None = None
        self.split_mode: Literal["script", "position", "stream"] | None = None  # known after setup
        self.stream: StreamedBlocks | None = None
        self._stream_state: dict | None = None  # a checkpoint's stream position, until the stream exists
        self._consumed_batches = 0  # training batches the trainer took from the current iteration

    def prepare_data(self) -> None:
        # Runs once per node before setup: tokenization happens here, and the other ranks then read the
        # cache in setup. This rank keeps what it built rather than reading the sources a second time.
        if not self.hparams.streaming:
            self.splits = self._load_or_build()

    def setup(self, stage: str) -> None:
        if self.hparams.control and self.hparams.control_format == "special":
            tokenizer = self.tokenizer()
            codes = [control_code(genre, "special") for genre in self.control_codes]
            self._code_ids = torch.tensor(tokenizer.convert_tokens_to_ids(codes))
        if self.hparams.streaming:
            if self.splits is None:
                self._setup_stream(stage)
        elif self.splits is None:
            self.splits = self._load_or_build()

    def train_dataloader(self) -> DataLoader:
        if self.hparams.streaming:
            return DataLoader(self.stream, batch_size=self.hparams.batch_size, drop_last=True)
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """The test scripts, held out from training and from checkpoint selection alike."""
        if self.hparams.streaming:
            raise UserInputError("data.streaming holds out validation documents only: test needs a prepared source")
        if "test" not in self.splits:
            raise UserInputError("data.test_fraction=0 leaves no test split: set data.test_fraction (e.g. 0.1)")
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test" if "test" in self.splits else "validation", shuffle=False)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        assert self.splits is not None, "call setup() first"
        dataset = self.splits[split]
        world_size, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        if shuffle:
            # The order is a function of (seed, epoch) alone, set by Lightning through set_epoch: every rank
            # reads a disjoint share (no block twice per epoch), and a resumed run reads what an
            # uninterrupted one would have.
            sampler = DistributedSampler(
                dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=self.hparams.seed, drop_last=True
            )
            if len(sampler) < self.hparams.batch_size:
                raise UserInputError(
                    f"data.batch_size={self.hparams.batch_size} is more than the {len(sampler)} training blocks "
                    f"each of the {world_size} process(es) gets: lower data.batch_size or data.block_size"
                )
        else:
            # Evaluation sees every block exactly once across ranks (no padding duplicates), so the
            # token-weighted perplexity equals the single-process figure.
            sampler = UnrepeatedDistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=self.hparams.batch_size,
            sampler=sampler,
            num_workers=self.hparams.num_workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=self.hparams.num_workers > 0,
            # Training steps are all full batches: static shapes (torch.compile, comparable step times).
            drop_last=shuffle,
        )

    def _setup_stream(self, stage: str) -> None:
        hp = self.hparams
        trainer = self.trainer
        if stage == "fit" and trainer is not None:
            limit = trainer.limit_train_batches
            if trainer.max_steps < 0 and not (isinstance(limit, int) and limit > 0):
                # An endless stream has no length to plan the LR schedule (estimated_stepping_batches) by.
                raise UserInputError("data.streaming has no length to plan training by: set trainer.max_steps")
        tokenizer = self.tokenizer()
        documents = stream_documents(hp.source, hp.text_column, hp.hub_split, hp.hub_config)
        held_out = [row["text"] for row in documents.take(hp.streaming_val_documents)]
        if self._normalise is None and hp.normalize is None:  # judged on the held-out head of the stream
            self._normalise = looks_like_screenplay(held_out)
        rank_zero_info(f"data: {hp.source}, streamed; {self._normalisation_note()}.")
        validation = InMemoryBlocks(held_out, tokenizer, self.normalising(), hp.block_size)
        if len(validation) == 0:
            raise UserInputError(
                f"the first data.streaming_val_documents={hp.streaming_val_documents} documents are smaller than "
                f"one block of data.block_size={hp.block_size}: raise data.streaming_val_documents"
            )
        self.splits = {"validation": validation}
        self.split_mode = "stream"
        rank_zero_info(
            f"validation: the first {hp.streaming_val_documents} streamed documents, {len(validation)} blocks."
        )
        training = documents.skip(hp.streaming_val_documents)
        world_size, rank = (trainer.world_size, trainer.global_rank) if trainer else (1, 0)
        if world_size > 1:  # every process reads its own share of the documents
            training = split_dataset_by_node(training, rank=rank, world_size=world_size)

        def texts(skip: int) -> Iterator[str]:
            return (row["text"] for row in (training.skip(skip) if skip else training))

        self.stream = StreamedBlocks(texts, tokenizer, self.normalising(), hp.block_size, self._iteration_start)

    def _iteration_start(self) -> StreamPosition:
        """Where an epoch's pass over the stream starts: a checkpoint's position when resuming within the
        epoch it stopped in, else the start (each epoch reads the stream again)."""
        self._consumed_batches = 0
        state, self._stream_state = self._stream_state, None
        trainer = self.trainer
        if state is None or trainer is None or state["epoch"] != trainer.current_epoch:
            return StreamPosition()
        if len(state["positions"]) != trainer.world_size:
            raise UserInputError(
                f"this checkpoint's stream was read by {len(state['positions'])} process(es), each its own share: "
                f"resume it with as many, not {trainer.world_size}"
            )
        return StreamPosition(*state["positions"][trainer.global_rank])

    def on_before_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        # Counts the batches the training loop took, not those the DataLoader fetched ahead.
        if self.stream is not None and self.trainer is not None and self.trainer.training:
            self._consumed_batches += 1
        if self._code_ids is not None:
            batch["labels"] = code_labels_masked(batch["input_ids"], self._code_ids)
        return batch

    def state_dict(self) -> dict:
        """The stream position of what training consumed (streaming only), saved in checkpoints."""
        if self.stream is None:
            return {}
        at = self.stream.position_after(self._consumed_batches * self.hparams.batch_size)
        positions = [[at.documents, at.offset]]
        trainer = self.trainer
        if trainer is not None and trainer.world_size > 1:
            # Each process reads its own share: the checkpoint (written by rank 0) holds every position.
            gathered = trainer.strategy.all_gather(torch.tensor(positions[0], device=trainer.strategy.root_device))
            positions = gathered.cpu().tolist()
        return {"stream": {"epoch": trainer.current_epoch if trainer is not None else 0, "positions": positions}}

    def load_state_dict(self, state_dict: dict) -> None:
        if "stream" not in state_dict:
            return
        if not self.hparams.streaming:
            raise UserInputError("this checkpoint was trained on a stream: resume it with data.streaming=true")
        if self.trainer is not None and self.trainer.max_steps < 0:
            # Epochs of a stream cut by limit_train_batches have no position Lightning resumes at reliably.
            raise UserInputError(
                "a streamed run resumes exactly only when planned by steps: set trainer.max_steps (and "
                "trainer.max_epochs=-1)"
            )
        self._stream_state = state_dict["stream"]  # applied when the next pass over the stream starts

    def training_texts(self) -> list[str]:
        """The (normalised) texts of the training scripts only: what a tokenizer may be trained on."""
        return self._prepared_scripts("train")["text"]

    def tokenizer(self) -> PreTrainedTokenizerBase:
        """The data's tokenizer, with a special token per genre code when ``control_format`` is special."""
        tokenizer = load_tokenizer(self.hparams.tokenizer)
        return add_control_codes(tokenizer, self.control_codes or [], self.hparams.control_format)

    @property
    def control_codes(self) -> list[str] | None:
        """The genres that have a code (sorted), or None without ``data.control``: what the model learns."""
        return sorted(set(self.script_genres())) if self.hparams.control else None

    def script_genres(self) -> list[str]:
        """Each script's genre, in source order: the embedded corpus's folders, the first folder under a
        ``source`` folder, or ``genre_column``."""
        if self._genres is None:
            hp = self.hparams
            files = text_files(hp.source)
            if files is None:
                table = load_scripts(hp.source, hp.text_column, None, hp.genre_column, hp.hub_split, hp.hub_config)[0]
                if "genre" not in table.column_names:
                    raise UserInputError("data.control=genre needs each script's genre: set data.genre_column")
                self._genres = list(table["genre"])
            elif hp.source is None:
                self._genres = [file.parent.name for file in files]
            else:
                root = Path(hp.source).expanduser()
                parts = [file.relative_to(root).parts if root.is_dir() else () for file in files]
                if any(len(p) < 2 for p in parts):
                    raise UserInputError(
                        f"data.control=genre reads genres from folders: put every script of {hp.source} in a "
                        "folder named after its genre (source/noir/a.txt), or use a table with data.genre_column"
                    )
                self._genres = [p[0] for p in parts]
        return self._genres

    def training_scripts(self) -> list[tuple[str, str]]:
        """(genre, text) of each training script, text as trained on (normalised; no code)."""
        return self._scripts_with_genres("train")

    def validation_scripts(self) -> list[tuple[str, str]]:
        """(genre, text) of each validation script, text as trained on (normalised; no code)."""
        return self._scripts_with_genres("validation")

    def _scripts_with_genres(self, split: Literal["train", "validation"]) -> list[tuple[str, str]]:
        genres = self.script_genres()
        scripts = self._prepared_scripts(split)
        if self._by_position(len(genres)):  # pieces of text, each from one document
            indices = scripts["document"]
        else:
            train_idx, val_idx, _ = self._split(len(genres))
            indices = train_idx if split == "train" else val_idx
        return [(genres[i], text) for i, text in zip(indices, scripts["text"])]

    def _split(self, n_scripts: int) -> tuple[list[int], list[int], list[int]]:
        hp = self.hparams
        return split_by_script(n_scripts, hp.val_fraction, hp.seed, hp.test_fraction)

    def _by_position(self, n_documents: int) -> bool:
        """Too few documents to split by whole script: the text is split by position instead."""
        return too_few_to_split_by_script(n_documents, self.hparams.test_fraction)

    def _position_pieces(self, texts: list[str]) -> tuple[datasets.Dataset, list[list[int]]]:
        """The documents cut by position: a row per piece (``text``, ``document``) and each split's rows."""
        hp = self.hparams
        pieces = split_by_position(texts, hp.val_fraction, hp.test_fraction)
        table = datasets.Dataset.from_dict({"text": [p.text for p in pieces], "document": [p.document for p in pieces]})
        return table, [[i for i, p in enumerate(pieces) if p.split == split] for split in range(3)]

    def normalising(self) -> bool:
        """Whether the text is normalised: ``data.normalize`` when given, else whether the source looks
        laid out as screenplays (``looks_like_screenplay`` on the start of up to 16 of its documents)."""
        if self._normalise is None:
            hp = self.hparams
            if hp.normalize is not None:
                self._normalise = hp.normalize
            else:
                files = text_files(hp.source)
                if files is not None:
                    step = max(1, len(files) // 16)
                    texts = (read_script_start(file, 2**16) for file in files[::step])
                else:
                    table = load_scripts(hp.source, hp.text_column, None, None, hp.hub_split, hp.hub_config)[0]
                    texts = iter(table["text"])
                self._normalise = looks_like_screenplay(texts)
        return self._normalise

    def _normalisation_note(self) -> str:
        """What the start-up line says about normalisation, and why."""
        forced = self.hparams.normalize
        if forced is not None:
            return f"screenplay normalisation {'on' if forced else 'off'} (data.normalize={str(forced).lower()})"
        if self.normalising():
            return "screenplay layout found: normalised (data.normalize=false keeps it as written)"
        return "no screenplay layout: kept as written (data.normalize=true normalises it)"

    def fitted_tokenizer(self) -> str:
        """The directory of the ``train_tokenizer``-token BPE fitted to the training scripts (cached)."""
        if not self.hparams.train_tokenizer:
            raise ValueError("data.train_tokenizer is not set")
        texts = self.training_texts()
        return str(cached_bpe_tokenizer(texts, self.hparams.train_tokenizer, self._cache_root() / "tokenizers"))

    def _cache_root(self) -> Path:
        return (
            Path(self.hparams.cache_dir)
            if self.hparams.cache_dir
            else Path(datasets.config.HF_DATASETS_CACHE) / "lit_gpt2"
        )

    def _prepared_scripts(self, split: Literal["all", "train", "validation"] = "all") -> datasets.Dataset:
        """The scripts of one split (or all), decoded and (if enabled) normalised, in source order: only
        those are normalised, so asking for the validation scripts does not process the whole corpus."""
        hp = self.hparams
        scripts, decode_report = load_scripts(
            hp.source, hp.text_column, hp.title_column, hp.genre_column, hp.hub_split, hp.hub_config
        )
        if self._by_position(len(scripts)):
            scripts, indices = self._position_pieces(scripts["text"])
            if split != "all":
                scripts = scripts.select(indices[0 if split == "train" else 1])
        elif split != "all":
            train_idx, val_idx, _ = self._split(len(scripts))
            scripts = scripts.select(train_idx if split == "train" else val_idx)
        if decode_report.files:
            rank_zero_warn(
                f"{decode_report.files} file(s) of data.source were not valid UTF-8: "
                f"{decode_report.bytes} byte(s) replaced by U+FFFD"
            )
        if self.normalising():
            raw_chars = sum(map(len, scripts["text"]))
            scripts = scripts.map(lambda row: {"text": normalise_screenplay(row["text"])}, desc="Normalising")
            saved = 1 - sum(map(len, scripts["text"])) / max(1, raw_chars)
            rank_zero_info(f"Screenplay normalisation removed {saved:.1%} of the characters.")
        return scripts

    def _load_or_build(self) -> dict[str, BlockDataset]:
        hp = self.hparams
        files = text_files(hp.source)
        table = None
        if files is None:  # a table or hub dataset: read whole, as the builders give it
            table = load_scripts(
                hp.source, hp.text_column, hp.title_column, hp.genre_column, hp.hub_split, hp.hub_config
            )[0]
        n_documents = len(files) if files is not None else len(table)
        by_position = self._by_position(n_documents)
        self.split_mode = "position" if by_position else "script"
        if by_position and hp.control:
            raise UserInputError(
                f"data.control=genre codes whole scripts, and {hp.source} holds {n_documents} document(s), too few "
                "to split by script: give one screenplay per file (or per row)"
            )
        tokenizer = self.tokenizer()
        how = "by position (too few documents to split by script)" if by_position else "by whole script"
        rank_zero_info(
            f"data: {hp.source or 'the embedded corpus'}: {n_documents} document(s), split {how}; "
            f"{self._normalisation_note()}."
        )
        cache = self._cache_path(files, table, tokenizer, by_position)
        damage = cache_damage(cache) if (cache / _META).exists() else None
        if damage is not None:
            print(f"lit-gpt2: the data cache {cache} is damaged ({damage}): rebuilding it", file=sys.stderr, flush=True)
            _discard(cache)
        if not (cache / _META).exists():
            self._build(files, table, tokenizer, cache, by_position)
        meta = json.loads((cache / _META).read_text())
        return {name: BlockDataset(cache / f"{name}.bin", meta["dtype"], hp.block_size) for name in meta["splits"]}

    def _cache_path(
        self,
        files: list[Path] | None,
        table: datasets.Dataset | None,
        tokenizer: PreTrainedTokenizerBase,
        by_position: bool = False,
    ) -> Path:
        """A folder keyed by the scripts (see ``cache_key``), the tokenizer's vocabulary, and the settings:
        the normalisation as decided (not as asked), and the split mode when it is by position (a folder
        that loses files until one is left changes mode, and must not reuse a cache of the other)."""
        hp = self.hparams
        names = ("block_size", "val_fraction", "test_fraction", "seed", "control", "control_format")
        settings = {k: hp[k] for k in names} | {"normalize": self.normalising()}
        settings |= ({"uncoded_fraction": hp.uncoded_fraction} if hp.control else {}) | (
            {"split": "position"} if by_position else {}
        )
        by_stat = files is not None and hp.source is not None and hp.cache_key == "stat"
        digest = hashlib.sha256(json.dumps([_PIPELINE_VERSION, settings, by_stat], sort_keys=True).encode())
        # The vocabulary itself, not its name: a retrained tokenizer saved at the same path gets a new key.
        digest.update(tokenizer.backend_tokenizer.to_str().encode())
        if table is not None:
            for text in table["text"]:
                digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
        elif by_stat:
            for file in files:
                stat = file.stat()
                digest.update(f"{file.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        else:
            for file in files:
                with open(file, "rb") as handle:
                    digest.update(hashlib.file_digest(handle, "sha256").digest())
        return self._cache_root() / digest.hexdigest()[:24]

    def _build(
        self,
        files: list[Path] | None,
        table: datasets.Dataset | None,
        tokenizer: PreTrainedTokenizerBase,
        cache: Path,
        by_position: bool = False,
    ) -> None:
        """Tokenize in ``num_proc`` processes and write each split's stream to ``cache`` (atomically)."""
        hp = self.hparams
        if by_position:  # one or two documents: read whole, cut into pieces of text, one split each
            texts = list(table["text"]) if table is not None else [read_script(file)[0] for file in files]
            scripts, split = self._position_pieces(texts)
            scripts = scripts.select_columns(["text"])
            mean_bytes = sum(map(len, texts)) / len(scripts)
        elif files is not None:
            scripts = datasets.Dataset.from_dict({"path": [str(file) for file in files]})
            mean_bytes = sum(file.stat().st_size for file in files) / len(files)
        else:
            scripts = table.select_columns(["text"])
            mean_bytes = sum(map(len, scripts["text"])) / len(scripts)
        if hp.control:
            genres, coded = self.script_genres(), coded_scripts(len(scripts), hp.uncoded_fraction, hp.seed)
            prefixes = [control_code(g, hp.control_format) if c else "" for g, c in zip(genres, coded)]
            scripts = scripts.add_column("prefix", prefixes)
        if not by_position:
            split = self._split(len(scripts))  # before tokenizing: too few scripts fails at once
        # Every process that builds says so (not rank zero only): one line per node in a multi-node run.
        print(f"lit-gpt2: building the data cache {cache} on {socket.gethostname()}", file=sys.stderr, flush=True)
        # Built beside its final place and renamed at the end, so a reader (another node, an interrupted
        # run) never takes a half-written folder for a cache.
        work = cache.with_name(f"{cache.name}.partial-{socket.gethostname()}-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            num_proc = hp.num_proc or len(os.sched_getaffinity(0))
            arrow_file = work / "tokens" / "tokens.arrow"
            normalise = self.normalising()
            tokens = tokenize_scripts(scripts, tokenizer, normalise, num_proc, mean_bytes, arrow_file, cache.name)
            self._report(tokens, hp.source or "the embedded corpus")
            # No test split when not asked for.
            kept = [(name, indices) for name, indices in zip(_SPLITS, split) if name != "test" or hp.test_fraction]
            names = [name for name, _ in kept]
            destination = np.full(len(scripts), -1, dtype=np.int64)
            for number, (_, indices) in enumerate(kept):
                destination[indices] = number
            dtype = token_dtype(len(tokenizer))
            counts = write_streams(_rows(tokens, destination), [work / f"{name}.bin" for name in names], dtype)
            for (name, indices), n_tokens in zip(kept, counts):
                n_blocks = n_tokens // hp.block_size
                where = _POSITION_SHARES[name].format(**hp) if by_position else f"{len(indices)} scripts"
                if n_blocks == 0:
                    fix = _POSITION_FIXES[name] if by_position else "add scripts"
                    raise UserInputError(
                        f"the {name} split ({where}, {n_tokens} tokens) is smaller than one block of "
                        f"data.block_size={hp.block_size}: lower data.block_size or {fix}"
                    )
                rank_zero_info(
                    f"{name}: {where}, {n_blocks * hp.block_size:,} tokens in {n_blocks} blocks of "
                    f"{hp.block_size} ({n_tokens % hp.block_size} trailing tokens dropped)."
                )
            del tokens
            shutil.rmtree(work / "tokens")
            meta = {
                "version": _PIPELINE_VERSION,
                "dtype": dtype.name,
                "splits": dict(zip(names, counts)),
                "checksums": {name: stream_checksum(work / f"{name}.bin") for name in names},
            }
            (work / _META).write_text(json.dumps(meta))
            try:
                work.rename(cache)
            except OSError:
                if not (cache / _META).exists():  # not another process finishing the same cache first
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _report(self, tokens: datasets.Dataset, label: str) -> None:
        columns = tokens.data
        if columns.column("blank").to_numpy().all():
            raise UserInputError(f"every script in {label} is empty: the source has no text to train on")
        bad_bytes = columns.column("bad_bytes").to_numpy()
        if bad_bytes.any():
            rank_zero_warn(
                f"{np.count_nonzero(bad_bytes)} file(s) of data.source were not valid UTF-8: "
                f"{bad_bytes.sum()} byte(s) replaced by U+FFFD"
            )
        if self.normalising():
            raw_chars = columns.column("raw_chars").to_numpy().sum()
            saved = 1 - columns.column("chars").to_numpy().sum() / max(1, raw_chars)
            rank_zero_info(f"Screenplay normalisation removed {saved:.1%} of the characters.")


def cache_damage(cache: Path) -> str | None:
    """What is wrong with a finished cache folder, or None: each split's file must hold the tokens its
    ``meta.json`` counts and match the checksum recorded there (caches built before checksums were
    recorded are checked by size alone)."""
    try:
        meta = json.loads((cache / _META).read_text())
        itemsize = np.dtype(meta["dtype"]).itemsize
        for name, count in meta["splits"].items():
            path = cache / f"{name}.bin"
            if not path.is_file():
                return f"{path.name} is missing"
            size, expected = path.stat().st_size, count * itemsize
            if size != expected:
                return f"{path.name} holds {size:,} bytes where {_META} records {expected:,}"
            checksum = meta.get("checksums", {}).get(name)
            if checksum is not None and stream_checksum(path) != checksum:
                return f"{path.name} does not match the checksum {_META} records"
    except (ValueError, KeyError, TypeError, AttributeError):  # unreadable JSON, or not the fields written
        return f"{_META} is malformed"
    return None


def _discard(cache: Path) -> None:
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
