"""Reading scripts from a folder or glob of .txt files, a CSV/JSONL/Parquet table, or a hub dataset.

Every source becomes one ``datasets.Dataset`` with a ``text`` and a ``title`` column (plus ``genre``
when the table has one), one row per screenplay.
"""

import glob
import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import datasets

from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.hub import hub_reachable

_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
TABLE_BUILDERS = {".csv": "csv", ".jsonl": "json", ".json": "json", ".parquet": "parquet"}


@dataclass
class DecodeReport:
    """How much of a text source was not valid UTF-8 and was replaced by U+FFFD."""

    files: int = 0
    bytes: int = 0


def embedded_corpus_dir() -> Path:
    """The folder of original screenplay scenes shipped with the package (the default source): one
    folder per genre (``scenes/<genre>/<title>.txt``), the genre labels' ground truth."""
    return Path(str(resources.files("lit_gpt2.data") / "scenes"))


def embedded_corpus_files() -> list[Path]:
    """Every scene of the embedded corpus, sorted by genre then title."""
    return sorted(embedded_corpus_dir().glob("*/*.txt"))


def text_files(source: str | None) -> list[Path] | None:
    """The ``.txt`` scripts of a file source in source order (``None``: the embedded corpus's), or ``None``
    when ``source`` is a table or a hub dataset name: what preparation reads lazily, one file at a time."""
    if source is None:
        return embedded_corpus_files()
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".txt" and p.is_file())
        if not files:
            raise UserInputError(f"no .txt scripts in data.source={source!r}: put one screenplay per .txt file there")
        return _without_binary_files(files, source)
    if glob.has_magic(source):
        files = _glob(source)
        return None if {p.suffix.lower() for p in files} & set(TABLE_BUILDERS) else _without_binary_files(files, source)
    if path.is_file():
        return None if path.suffix.lower() in TABLE_BUILDERS else _without_binary_files([path], source)
    return None


def is_binary(file: Path) -> bool:
    """A file holding a NUL byte in its first 8 KiB (git's test): a program, an image or a zeroed file,
    never a screenplay."""
    with open(file, "rb") as handle:
        return b"\0" in handle.read(8192)


def _without_binary_files(files: list[Path], source: str) -> list[Path]:
    """``files`` without the binary ones, each skipped by name in one warning; refused if none is left."""
    binary = [file for file in files if is_binary(file)]
    if not binary:
        return files
    names = ", ".join(str(file) for file in binary[:5]) + (f" and {len(binary) - 5} more" if len(binary) > 5 else "")
    if len(binary) == len(files):
        raise UserInputError(
            f"every file of data.source={source!r} is binary (it holds NUL bytes), not text: {names}; "
            "give a folder of .txt screenplays"
        )
    warnings.warn(f"skipped {len(binary)} binary file(s) of data.source (NUL bytes, not text): {names}", stacklevel=2)
    return [file for file in files if file not in binary]


def load_scripts(
    source: str | None,
    text_column: str = "text",
    title_column: str | None = None,
    genre_column: str | None = None,
    hub_split: str = "train",
    hub_config: str | None = None,
) -> tuple[datasets.Dataset, DecodeReport]:
    """Load every script of ``source`` (None: the embedded corpus) and report undecodable bytes.
    ``hub_config`` names a hub dataset's configuration (e.g. ``wikitext-2-raw-v1``)."""
    if source is None:
        return _load_text_files(embedded_corpus_files(), "the embedded corpus", genre_from_folder=True)
    files = text_files(source)
    if files is not None:
        return _load_text_files(files, source)
    path = Path(source).expanduser()
    if glob.has_magic(source):
        return _load_table(_glob(source), text_column, title_column, genre_column), DecodeReport()
    if path.is_file():
        return _load_table([path], text_column, title_column, genre_column), DecodeReport()
    if _looks_like_hub_id(source) and hub_reachable():
        data = datasets.load_dataset(source, hub_config, split=hub_split)
        return _select_columns(data, text_column, title_column, genre_column, source), DecodeReport()
    if path.exists():  # a device (/dev/null), a pipe or a socket
        raise UserInputError(
            f"data.source={source!r} is neither a regular file nor a folder: give a folder of .txt screenplays "
            "or a CSV/JSONL/Parquet file"
        )
    raise UserInputError(
        f"data.source={source!r} does not exist: give a folder of .txt screenplays, a CSV/JSONL/Parquet file, "
        "or (with network access) a Hugging Face dataset name"
    )


def stream_documents(
    source: str | None, text_column: str = "text", hub_split: str = "train", hub_config: str | None = None
) -> datasets.IterableDataset:
    """The texts of ``source`` as a ``datasets.IterableDataset`` of ``{"text": str}`` rows, read as they are
    iterated and never copied to disk whole: a Hugging Face dataset name (online), or a local
    CSV/JSONL/Parquet file or glob (a corpus too large for the cache). Blank rows are skipped.
    Folders of .txt files and the embedded corpus are refused: they are prepared to disk cheaply."""
    if source is None or text_files(source) is not None:
        raise UserInputError(
            f"data.streaming reads a Hugging Face dataset or a CSV/JSONL/Parquet file, not "
            f"{source or 'the embedded corpus'!r}: .txt scripts are prepared to disk cheaply, so drop data.streaming"
        )
    path = Path(source).expanduser()
    if glob.has_magic(source) or path.is_file():
        files = _glob(source) if glob.has_magic(source) else [path]
        builders = {TABLE_BUILDERS.get(p.suffix.lower()) for p in files}
        if len(builders) != 1 or None in builders:
            raise UserInputError("data.source mixes file types: give one CSV, JSONL or Parquet kind at a time")
        data = datasets.load_dataset(builders.pop(), data_files=[str(p) for p in files], split="train", streaming=True)
    elif _looks_like_hub_id(source) and hub_reachable():
        data = datasets.load_dataset(source, hub_config, split=hub_split, streaming=True)
    else:
        raise UserInputError(
            f"data.source={source!r} does not exist: give a CSV/JSONL/Parquet file or (with network access) a "
            "Hugging Face dataset name to stream"
        )
    if data.column_names is not None and text_column not in data.column_names:
        raise UserInputError(
            f"column {text_column!r} (data.text_column) is not in {source}; its columns are "
            f"{', '.join(data.column_names)}: set --data.text_column to one of them"
        )
    data = data.filter(lambda row: isinstance(row[text_column], str) and row[text_column].strip() != "")
    return data.map(lambda row: {"text": row[text_column]}, remove_columns=data.column_names)


def read_script(file: Path) -> tuple[str, int]:
    """One script file as text (undecodable bytes replaced by U+FFFD) and how many bytes were replaced."""
    return _decode(file.read_bytes())


def read_script_start(file: Path, n_bytes: int) -> str:
    """The first ``n_bytes`` of a script file as text (a character cut at the end becomes U+FFFD)."""
    with open(file, "rb") as handle:
        return _decode(handle.read(n_bytes))[0]


def _glob(source: str) -> list[Path]:
    files = sorted(Path(p) for p in glob.glob(str(Path(source).expanduser()), recursive=True) if Path(p).is_file())
    if not files:
        raise UserInputError(f"data.source={source!r} matches no file: check the pattern")
    return files


def _looks_like_hub_id(source: str) -> bool:
    return not source.startswith((".", "/", "~")) and source.count("/") <= 1 and not Path(source).suffix


def _load_text_files(
    files: list[Path], label: str, genre_from_folder: bool = False
) -> tuple[datasets.Dataset, DecodeReport]:
    report = DecodeReport()
    texts, titles = [], []
    columns = {"genre": [file.parent.name for file in files]} if genre_from_folder else {}
    for file in files:
        text, bad_bytes = read_script(file)
        if bad_bytes:
            report.files += 1
            report.bytes += bad_bytes
        texts.append(text)
        titles.append(file.stem)
    _require_text(texts, label)
    return datasets.Dataset.from_dict({"text": texts, "title": titles, **columns}), report


def _decode(raw: bytes) -> tuple[str, int]:
    """UTF-8 with each undecodable byte replaced by U+FFFD; also returns how many bytes were replaced."""
    text = raw.decode("utf-8", errors="surrogateescape")
    text, bad = _ESCAPED_BYTE.subn("\ufffd", text)
    return text, bad


def _load_table(
    files: list[Path], text_column: str, title_column: str | None, genre_column: str | None
) -> datasets.Dataset:
    builders = {TABLE_BUILDERS.get(p.suffix.lower()) for p in files}
    if len(builders) != 1 or None in builders:
        raise UserInputError("data.source mixes file types: give one CSV, JSONL or Parquet kind at a time")
    try:
        data = datasets.load_dataset(builders.pop(), data_files=[str(p) for p in files], split="train")
    except Exception as err:  # the builders raise many types for a malformed table
        raise UserInputError(f"cannot read {files[0]} as a table ({type(err).__name__}): check its format") from None
    return _select_columns(data, text_column, title_column, genre_column, str(files[0]))


def _select_columns(
    data: datasets.Dataset, text_column: str, title_column: str | None, genre_column: str | None, label: str
) -> datasets.Dataset:
    for option, column in (
        ("text_column", text_column),
        ("title_column", title_column),
        ("genre_column", genre_column),
    ):
        if column is not None and column not in data.column_names:
            raise UserInputError(
                f"column {column!r} (data.{option}) is not in {label}; its columns are "
                f"{', '.join(data.column_names)}: set --data.{option} to one of them"
            )
    data = data.filter(lambda row: isinstance(row[text_column], str) and row[text_column].strip() != "")
    _require_text(data[text_column], label)
    columns = {"text": data[text_column]}
    columns["title"] = [str(t) for t in data[title_column]] if title_column else [f"row {i}" for i in range(len(data))]
    if genre_column:
        columns["genre"] = [str(g) for g in data[genre_column]]
    return datasets.Dataset.from_dict(columns)


def _require_text(texts: list[str], label: str) -> None:
    if not any(t.strip() for t in texts):
        raise UserInputError(f"every script in {label} is empty: the source has no text to train on")
