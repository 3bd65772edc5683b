"""The corpus: the scripts of one source, normalised, split by whole script (or by position), their
genres, and the BPE fitted to the training scripts.

One owner for all of it: the data module builds a ``Corpus`` from its options, and the CLI, the commands,
scripts and benchmarks ask one directly instead of building a data module to reach it. (The folder
``scenes/`` beside this file holds the embedded scenes; ``sources.py`` reads them.)
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import datasets
from lightning.pytorch.utilities import rank_zero_info, rank_zero_warn
from transformers import PreTrainedTokenizerBase

from lit_gpt2.data.screenplay import looks_like_screenplay, normalise_screenplay
from lit_gpt2.data.sources import DecodeReport, load_scripts, read_script_start, text_files
from lit_gpt2.data.split import split_by_position, split_by_script, too_few_to_split_by_script
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.bpe import cached_bpe_tokenizer
from lit_gpt2.modeling.control import ControlFormat
from lit_gpt2.modeling.tokenizer import resolve_tokenizer


@dataclass(frozen=True)
class Corpus:
    """Scripts from one source, as training reads them: decoded, normalised, split, with their genres.

    Args: the options of ``MovieScriptsDataModule`` of the same names (``lit-gpt2 fit --help`` describes
    each): ``source``, its columns, hub split and configuration; ``val_fraction``, ``test_fraction`` and
    ``seed`` of the split; ``normalize``; ``control`` and ``control_format`` of the genre codes;
    ``train_tokenizer`` and ``cache_dir`` of the fitted BPE; ``streaming``, with which nothing here
    that reads every script is allowed.

    Settings only, so cheap to build: each script is read when something asks for it, and what is
    costly to find (the file list, the genres, whether to normalise) is found once per corpus.
    """

    source: str | None = None
    text_column: str = "text"
    title_column: str | None = None
    genre_column: str | None = None
    hub_split: str = "train"
    hub_config: str | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 42
    normalize: bool | None = None
    control: Literal["genre"] | None = None
    control_format: ControlFormat = "special"
    train_tokenizer: int | None = None
    cache_dir: str | None = None
    streaming: bool = False

    def __post_init__(self) -> None:
        if self.streaming and self.train_tokenizer:
            raise UserInputError("data.train_tokenizer reads every training script: not with data.streaming")
        if self.streaming and self.control:
            raise UserInputError("data.control reads every script's genre first: not with data.streaming")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "Corpus":
        """The corpus of a data module's options (its hyperparameters, or the CLI's ``data`` group); the
        options that are not the corpus's (block size, batch size, workers, ...) are left out."""
        return cls(**{field.name: options[field.name] for field in fields(cls) if field.name in options})

    @property
    def label(self) -> str:
        """How messages name the source."""
        return self.source or "the embedded corpus"

    @property
    def cache_root(self) -> Path:
        """Where the fitted tokenizers and the token caches live: ``cache_dir``, else the datasets cache."""
        return Path(self.cache_dir) if self.cache_dir else Path(datasets.config.HF_DATASETS_CACHE) / "lit_gpt2"

    @cached_property
    def files(self) -> list[Path] | None:
        """The .txt scripts in source order, or None for a table or a hub dataset (``text_files``)."""
        return text_files(self.source)

    def documents(self) -> tuple[datasets.Dataset, DecodeReport]:
        """Every script, decoded but not normalised, with its title (and genre when the source has one)."""
        return load_scripts(
            self.source, self.text_column, self.title_column, self.genre_column, self.hub_split, self.hub_config
        )

    @cached_property
    def normalising(self) -> bool:
        """Whether the text is normalised: ``normalize`` when given, else whether the source looks laid
        out as screenplays (``looks_like_screenplay`` on the start of up to 16 of its documents)."""
        if self.normalize is not None:
            return self.normalize
        if self.files is not None:
            step = max(1, len(self.files) // 16)
            return looks_like_screenplay(read_script_start(file, 2**16) for file in self.files[::step])
        return looks_like_screenplay(iter(self.documents()[0]["text"]))

    def normalisation_note(self) -> str:
        """What the start-up line says about normalisation, and why."""
        return normalisation_note(self.normalize, self.normalising)

    def by_position(self, n_documents: int) -> bool:
        """Too few documents to split by whole script: the text is split by position instead."""
        return too_few_to_split_by_script(n_documents, self.test_fraction)

    def split(self, n_scripts: int) -> tuple[list[int], list[int], list[int]]:
        """The train, validation and test script indices (seeded; ``split_by_script``)."""
        return split_by_script(n_scripts, self.val_fraction, self.seed, self.test_fraction)

    def position_pieces(self, texts: list[str]) -> tuple[datasets.Dataset, list[list[int]]]:
        """The documents cut by position: a row per piece (``text``, ``document``) and each split's rows."""
        pieces = split_by_position(texts, self.val_fraction, self.test_fraction)
        table = datasets.Dataset.from_dict({"text": [p.text for p in pieces], "document": [p.document for p in pieces]})
        return table, [[i for i, p in enumerate(pieces) if p.split == split] for split in range(3)]

    def scripts(self, split: Literal["all", "train", "validation"] = "all") -> datasets.Dataset:
        """The scripts of one split (or all), decoded and (if enabled) normalised, in source order: only
        those are normalised, so asking for the validation scripts does not process the whole corpus."""
        scripts, decoded = self.documents()
        if self.by_position(len(scripts)):
            scripts, indices = self.position_pieces(scripts["text"])
            if split != "all":
                scripts = scripts.select(indices[0 if split == "train" else 1])
        elif split != "all":
            train, validation, _ = self.split(len(scripts))
            scripts = scripts.select(train if split == "train" else validation)
        raw_chars = sum(map(len, scripts["text"]))
        if self.normalising:
            scripts = scripts.map(lambda row: {"text": normalise_screenplay(row["text"])}, desc="Normalising")
        report_text(decoded.files, decoded.bytes, self.normalising, raw_chars, sum(map(len, scripts["text"])))
        return scripts

    def training_texts(self) -> list[str]:
        """The (normalised) texts of the training scripts only: what a tokenizer may be fitted to."""
        return self.scripts("train")["text"]

    @cached_property
    def genres(self) -> list[str]:
        """Each script's genre, in source order: the embedded corpus's folders, the first folder under a
        ``source`` folder, or ``genre_column``."""
        if self.files is None:
            table = self.documents()[0]
            if "genre" not in table.column_names:
                raise UserInputError("data.control=genre needs each script's genre: set data.genre_column")
            return list(table["genre"])
        if self.source is None:
            return [file.parent.name for file in self.files]
        root = Path(self.source).expanduser()
        parts = [file.relative_to(root).parts if root.is_dir() else () for file in self.files]
        if any(len(p) < 2 for p in parts):
            raise UserInputError(
                f"data.control=genre reads genres from folders: put every script of {self.source} in a "
                "folder named after its genre (source/noir/a.txt), or use a table with data.genre_column"
            )
        return [p[0] for p in parts]

    @property
    def codes(self) -> list[str] | None:
        """The genres that have a code (sorted), or None without ``control``: what the model learns."""
        return sorted(set(self.genres)) if self.control else None

    def training_scripts(self) -> list[tuple[str, str]]:
        """(genre, text) of each training script, text as trained on (normalised; no code)."""
        return self._scripts_with_genres("train")

    def validation_scripts(self) -> list[tuple[str, str]]:
        """(genre, text) of each validation script, text as trained on (normalised; no code)."""
        return self._scripts_with_genres("validation")

    def _scripts_with_genres(self, split: Literal["train", "validation"]) -> list[tuple[str, str]]:
        scripts = self.scripts(split)
        if self.by_position(len(self.genres)):  # pieces of text, each from one document
            indices = scripts["document"]
        else:
            train, validation, _ = self.split(len(self.genres))
            indices = train if split == "train" else validation
        return [(self.genres[i], text) for i, text in zip(indices, scripts["text"])]

    def fitted_tokenizer(self) -> Path:
        """The directory of the ``train_tokenizer``-token BPE fitted to the training scripts: fitted once,
        then read from ``cache_root/tokenizers`` (keyed by the texts)."""
        if not self.train_tokenizer:
            raise ValueError("data.train_tokenizer is not set")
        return cached_bpe_tokenizer(self.training_texts(), self.train_tokenizer, self.cache_root / "tokenizers")

    def tokenizer(self, name: str = "gpt2") -> PreTrainedTokenizerBase:
        """The tokenizer of this corpus's data: the fitted BPE when ``train_tokenizer`` is set, else
        ``name``, with a token per genre code (``resolve_tokenizer``)."""
        chosen = str(self.fitted_tokenizer()) if self.train_tokenizer else name
        return resolve_tokenizer(chosen, self.codes, self.control_format)


def normalisation_note(forced: bool | None, normalising: bool) -> str:
    """What the start-up line says about normalisation, and why: forced by ``data.normalize``, or as the
    source's layout decided it."""
    if forced is not None:
        return f"screenplay normalisation {'on' if forced else 'off'} (data.normalize={str(forced).lower()})"
    if normalising:
        return "screenplay layout found: normalised (data.normalize=false keeps it as written)"
    return "no screenplay layout: kept as written (data.normalize=true normalises it)"


def report_text(bad_files: int, bad_bytes: int, normalising: bool, raw_chars: int, chars: int) -> None:
    """The one place that tells what reading did to the text: bytes that were not UTF-8 (a warning,
    shown once per run however many times the text is read) and the share normalisation removed."""
    if bad_files:
        rank_zero_warn(
            f"{bad_files} file(s) of data.source were not valid UTF-8: {bad_bytes} byte(s) replaced by U+FFFD"
        )
    if normalising:
        rank_zero_info(f"Screenplay normalisation removed {1 - chars / max(1, raw_chars):.1%} of the characters.")
