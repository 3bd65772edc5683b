"""The token cache: keyed by sources, vocabulary and settings; built atomically; checked against its
meta.json when read; usable from a corpus and a tokenizer alone."""

import os

import numpy as np
import pytest
import torch

from lit_gpt2.data.corpus import Corpus
from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.packing import pack_blocks
from lit_gpt2.data.token_cache import TokenCache
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer


def test_second_run_reads_the_cache_instead_of_tokenizing(tmp_path, monkeypatch):
    first = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    first.setup("fit")

    def fail(*_):
        raise AssertionError("tokenized again despite an identical cached source")

    monkeypatch.setattr(TokenCache, "build", fail)
    second = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    second.setup("fit")
    assert np.array_equal(second.splits["train"].blocks_view(), first.splits["train"].blocks_view())


def test_cache_is_keyed_by_contents_and_settings(tmp_path):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for i in range(4):
        (scripts / f"{i}.txt").write_text("INT. ROOM - DAY\n\nA line of action. " * 20)
    dm = MovieScriptsDataModule(source=str(scripts), block_size=16, cache_dir=str(tmp_path / "cache"))
    dm.setup("fit")
    (scripts / "0.txt").write_text("EXT. STREET - NIGHT\n\nSomething else entirely. " * 20)
    changed = MovieScriptsDataModule(source=str(scripts), block_size=16, cache_dir=str(tmp_path / "cache"))
    changed.setup("fit")
    bigger = MovieScriptsDataModule(source=str(scripts), block_size=32, cache_dir=str(tmp_path / "cache"))
    bigger.setup("fit")
    assert len(list((tmp_path / "cache").iterdir())) == 3


def test_corpus_smaller_than_one_block_says_what_to_change(tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text("INT. ROOM\n\nHi.\n")
    dm = MovieScriptsDataModule(source=str(tmp_path), block_size=64, cache_dir=str(tmp_path / "cache"))
    with pytest.raises(UserInputError, match="smaller than one block of data.block_size=64: lower data.block_size"):
        dm.setup("fit")
    assert list((tmp_path / "cache").iterdir()) == []  # no half-built folder left to be taken for a cache


def _packed_in_memory(dm: MovieScriptsDataModule) -> dict[str, np.ndarray]:
    """The previous pipeline: every script's tokens in Python lists, packed by ``pack_blocks``."""
    tokenizer = load_tokenizer(dm.hparams.tokenizer)
    texts = list(dm.corpus.scripts()["text"])
    ids = tokenizer(texts, verbose=False)["input_ids"]
    names = ("train", "validation", "test")
    return {
        name: pack_blocks((ids[i] for i in indices), tokenizer.eos_token_id, dm.block_size)[0]
        for name, indices in zip(names, dm.corpus.split(len(texts)))
        if indices
    }


def test_streamed_blocks_equal_the_in_memory_packing_of_the_embedded_corpus(tmp_path):
    dm = MovieScriptsDataModule(block_size=64, cache_dir=str(tmp_path), num_proc=2)
    dm.setup("fit")
    expected = _packed_in_memory(dm)
    assert set(dm.splits) == set(expected)
    for name, blocks in expected.items():
        assert dm.splits[name].blocks_view().dtype == np.uint16
        assert np.array_equal(dm.splits[name].blocks_view(), blocks), name
    assert torch.equal(dm.splits["validation"][3]["input_ids"], torch.from_numpy(expected["validation"][3]))


def test_streamed_blocks_equal_the_in_memory_packing_of_odd_files(tmp_path):
    """Indented screenplays, invalid UTF-8, a blank file, a script longer than the tokenizer's cap."""
    scripts = tmp_path / "scripts"
    (scripts / "nested").mkdir(parents=True)
    for i in range(9):
        (scripts / f"{i}.txt").write_text(f"INT. ROOM {i} - DAY\n\n          JOE\n     Line {i}.\n" * (i + 1))
    (scripts / "nested" / "bytes.txt").write_bytes(b"EXT. CAF\xe9 - NIGHT\n\nCoffee.\n" * 5)
    (scripts / "blank.txt").write_text("   \n\n")
    (scripts / "long.txt").write_text("A long line of action that goes on. " * 400)  # > 1024 tokens
    for num_proc in (1, 2):
        dm = MovieScriptsDataModule(
            source=str(scripts), block_size=8, num_proc=num_proc, cache_dir=str(tmp_path / f"cache{num_proc}")
        )
        dm.setup("fit")
        for name, blocks in _packed_in_memory(dm).items():
            assert np.array_equal(dm.splits[name].blocks_view(), blocks), (num_proc, name)


def test_touching_a_file_rebuilds_a_stat_keyed_cache_but_not_a_contents_keyed_one(tmp_path, monkeypatch):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for i in range(4):
        (scripts / f"{i}.txt").write_text("INT. ROOM - DAY\n\nA line of action. " * 20)

    def cache_folders(cache_key: str) -> int:
        dm = MovieScriptsDataModule(source=str(scripts), block_size=16, cache_key=cache_key, cache_dir=str(tmp_path))
        dm.setup("fit")
        return len([p for p in tmp_path.iterdir() if p.name != "scripts"])

    assert cache_folders("stat") == 1
    assert cache_folders("stat") == 1  # reused
    assert cache_folders("contents") == 2
    os.utime(scripts / "2.txt", ns=(10**18, 10**18))  # same bytes, new modification time
    assert cache_folders("stat") == 3
    assert cache_folders("contents") == 3  # the bytes did not change
    (scripts / "2.txt").write_text("EXT. STREET - NIGHT\n\nSame length, other words" + " " * 336)
    assert cache_folders("contents") == 4


@pytest.mark.parametrize(
    "damage, why",
    [
        (lambda cache: _truncate(cache / "train.bin", 2 * 100), "train.bin holds 200 bytes"),  # even: whole tokens
        (lambda cache: _truncate(cache / "train.bin", 201), "train.bin holds 201 bytes"),  # odd: half a token
        (lambda cache: _overwrite_middle(cache / "validation.bin"), "validation.bin does not match the checksum"),
        (lambda cache: (cache / "test.bin").unlink(), "test.bin is missing"),
        (lambda cache: _truncate(cache / "meta.json", 10), "meta.json is malformed"),
    ],
)
def test_a_damaged_cache_is_detected_and_rebuilt_with_a_notice(tmp_path, capfd, damage, why):
    """A truncated train.bin once trained on a third of the data without a word (or failed in numpy on
    every later run): its size and checksum are now checked against meta.json when the cache is read."""
    first = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    first.setup("fit")
    expected = {name: split.blocks_view().copy() for name, split in first.splits.items()}
    (cache,) = tmp_path.iterdir()
    damage(cache)
    capfd.readouterr()
    again = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    again.setup("fit")
    err = capfd.readouterr().err
    assert f"the data cache {cache} is damaged ({why}" in err and "rebuilding it" in err
    assert {name: split.blocks_view().tolist() for name, split in again.splits.items()} == {
        name: blocks.tolist() for name, blocks in expected.items()
    }
    assert [p.name for p in tmp_path.iterdir()] == [cache.name]  # nothing damaged left beside it


def test_an_intact_cache_is_read_without_a_notice(tmp_path, capfd):
    MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path)).setup("fit")
    capfd.readouterr()
    MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path)).setup("fit")
    assert "damaged" not in capfd.readouterr().err


def _truncate(path, size: int) -> None:
    with open(path, "r+b") as file:
        file.truncate(size)


def _overwrite_middle(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8] = bytes(8)  # same size, other tokens
    path.write_bytes(bytes(data))


def test_a_corpus_and_a_tokenizer_are_all_the_cache_needs(tmp_path):
    """The data module only hands its corpus and tokenizer over: the cache alone gives the same blocks."""
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for i in range(6):
        (scripts / f"{i}.txt").write_text(f"INT. ROOM {i} - DAY\n\nA line of action. " * 20)
    corpus = Corpus(source=str(scripts), cache_dir=str(tmp_path / "cache"))
    splits, by_position = TokenCache(corpus, block_size=16).blocks(load_tokenizer("gpt2"))
    assert not by_position and set(splits) == {"train", "validation", "test"}
    dm = MovieScriptsDataModule(source=str(scripts), block_size=16, cache_dir=str(tmp_path / "cache"))
    dm.setup("fit")
    assert dm.split_mode == "script" and len(list((tmp_path / "cache").iterdir())) == 1  # the same folder
    for name, blocks in splits.items():
        assert np.array_equal(dm.splits[name].blocks_view(), blocks.blocks_view()), name
