"""The LightningDataModule: scripts -> normalised text -> split by script -> tokens -> packed blocks."""

import hashlib
import json
from pathlib import Path

import datasets
import lightning as L
import numpy as np
import torch
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from torch.utils.data import DataLoader, DistributedSampler
from transformers import PreTrainedTokenizerBase

from lit_gpt2.data.packing import pack_blocks
from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import load_scripts
from lit_gpt2.data.split import split_by_script
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer
from lit_gpt2.modeling.bpe import cached_bpe_tokenizer

# Bump when the processing below changes, so stale caches are not reused.
_PIPELINE_VERSION = 2  # 2: a test split beside train and validation


class MovieScriptsDataModule(L.LightningDataModule):
    """Movie scripts as packed blocks of GPT-2 tokens, split by whole script.

    Args:
        source: Folder or glob of .txt screenplays, a CSV/JSONL/Parquet file, or a Hugging Face dataset
            name. ``None`` uses the original scenes shipped with the package.
        text_column: Column holding the script text (tables and hub datasets).
        title_column: Optional column with the script title, kept as metadata.
        genre_column: Optional column with the genre, kept as metadata.
        hub_split: Split to read from a hub dataset.
        tokenizer: Tokenizer name or directory (the CLI links it to the model's).
        train_tokenizer: Fit a byte-level BPE tokenizer of this many tokens to the training scripts
            (trained once, then cached by their contents) and use it for the data and the model instead
            of ``model.tokenizer``: far cheaper than GPT-2's 50,257 tokens for a small model trained from
            scratch. Not with pretrained weights, whose embeddings fit their own vocabulary.
        block_size: Tokens per training block; at most the model's context length.
        batch_size: Blocks per batch (per device).
        val_fraction: Fraction of scripts held out for validation (``fit``, ``validate``: picks the best
            checkpoint).
        test_fraction: Fraction of scripts held out for ``test`` and ``predict`` only, never seen while
            choosing a checkpoint; 0 for none (then ``test`` is refused and ``predict`` reads validation).
        seed: Seed of the script-level split.
        normalize: Collapse screenplay indentation before tokenizing (saves tokens, keeps structure).
        num_workers: DataLoader worker processes.
        cache_dir: Where tokenized, packed blocks are cached; default: the ``datasets`` cache.
    """

    def __init__(
        self,
        source: str | None = None,
        text_column: str = "text",
        title_column: str | None = None,
        genre_column: str | None = None,
        hub_split: str = "train",
        tokenizer: str = "gpt2",
        train_tokenizer: int | None = None,
        block_size: int = 256,
        batch_size: int = 8,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 42,
        normalize: bool = True,
        num_workers: int = 0,
        cache_dir: str | None = None,
    ) -> None:
        super().__init__()
        if block_size < 2:
            raise UserInputError(f"data.block_size={block_size} is too small: use at least 2 (e.g. 256)")
        if batch_size < 1:
            raise UserInputError(f"data.batch_size={batch_size} must be at least 1")
        self.save_hyperparameters()
        self.block_size = block_size
        self.splits: datasets.DatasetDict | None = None

    def prepare_data(self) -> None:
        # Runs once per node before setup: tokenization happens here, and the other ranks then read the
        # cache in setup. This rank keeps what it built rather than reading the sources a second time.
        self.splits = self._load_or_build()

    def setup(self, stage: str) -> None:
        if self.splits is None:
            self.splits = self._load_or_build()

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """The test scripts, held out from training and from checkpoint selection alike."""
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

    def training_texts(self) -> list[str]:
        """The (normalised) texts of the training scripts only: what a tokenizer may be trained on."""
        scripts = self._prepared_scripts()
        train_idx, _, _ = self._split(len(scripts))
        return [scripts[i]["text"] for i in train_idx]

    def _split(self, n_scripts: int) -> tuple[list[int], list[int], list[int]]:
        hp = self.hparams
        return split_by_script(n_scripts, hp.val_fraction, hp.seed, hp.test_fraction)

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

    def _prepared_scripts(self) -> datasets.Dataset:
        """Every script of the source, decoded and (if enabled) normalised, in source order."""
        hp = self.hparams
        scripts, decode_report = load_scripts(hp.source, hp.text_column, hp.title_column, hp.genre_column, hp.hub_split)
        if decode_report.files:
            rank_zero_warn(
                f"{decode_report.files} file(s) of data.source were not valid UTF-8: "
                f"{decode_report.bytes} byte(s) replaced by U+FFFD"
            )
        if hp.normalize:
            raw_chars = sum(map(len, scripts["text"]))
            scripts = scripts.map(lambda row: {"text": normalise_screenplay(row["text"])}, desc="Normalising")
            saved = 1 - sum(map(len, scripts["text"])) / max(1, raw_chars)
            rank_zero_info(f"Screenplay normalisation removed {saved:.1%} of the characters.")
        return scripts

    def _load_or_build(self) -> datasets.DatasetDict:
        scripts = self._prepared_scripts()
        tokenizer = load_tokenizer(self.hparams.tokenizer)
        cache = self._cache_path(scripts, tokenizer)
        if (cache / "dataset_dict.json").exists():
            return datasets.load_from_disk(str(cache)).with_format("torch")
        splits = self._build(scripts, tokenizer)
        splits.save_to_disk(str(cache))
        return splits.with_format("torch")

    def _cache_path(self, scripts: datasets.Dataset, tokenizer: PreTrainedTokenizerBase) -> Path:
        """A folder keyed by the scripts' contents, the tokenizer's vocabulary, and the block settings."""
        hp = self.hparams
        settings = {k: hp[k] for k in ("block_size", "val_fraction", "test_fraction", "seed", "normalize")}
        digest = hashlib.sha256(json.dumps([_PIPELINE_VERSION, settings], sort_keys=True).encode())
        # The vocabulary itself, not its name: a retrained tokenizer saved at the same path gets a new key.
        digest.update(tokenizer.backend_tokenizer.to_str().encode())
        for text in scripts["text"]:
            digest.update(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest())
        return self._cache_root() / digest.hexdigest()[:24]

    def _build(self, scripts: datasets.Dataset, tokenizer: PreTrainedTokenizerBase) -> datasets.DatasetDict:
        hp = self.hparams
        # The tokenizer's own length cap would warn on long scripts; packing cuts them into blocks instead.
        tokens = scripts.map(
            lambda batch: {"ids": tokenizer(batch["text"], verbose=False)["input_ids"]},
            batched=True,
            remove_columns=scripts.column_names,
            desc="Tokenizing",
        )["ids"]
        splits = {}
        for name, indices in zip(("train", "validation", "test"), self._split(len(scripts))):
            if not indices:
                continue  # no test split asked for
            blocks, remainder = pack_blocks((tokens[i] for i in indices), tokenizer.eos_token_id, hp.block_size)
            if len(blocks) == 0:
                raise UserInputError(
                    f"the {name} split ({len(indices)} script(s), {len(remainder)} tokens) is smaller than one "
                    f"block of data.block_size={hp.block_size}: lower data.block_size or add scripts"
                )
            rank_zero_info(
                f"{name}: {len(indices)} scripts, {blocks.size:,} tokens in {len(blocks)} blocks of "
                f"{hp.block_size} ({len(remainder)} trailing tokens dropped)."
            )
            splits[name] = datasets.Dataset.from_dict({"input_ids": blocks.astype(np.int64)})
        return datasets.DatasetDict(splits)
