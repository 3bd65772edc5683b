import logging
import os
import re

import numpy as np
import pytest
import torch

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.data.packing import pack_blocks
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling import load_tokenizer


def test_batches_are_full_blocks_of_real_tokens(tmp_path):
    dm = MovieScriptsDataModule(block_size=32, batch_size=4, cache_dir=str(tmp_path))
    dm.prepare_data()
    dm.setup("fit")
    batches = list(dm.train_dataloader())
    assert len(dm.splits["train"]) % 4 != 0  # there is a remainder, and no step gets a short batch
    assert {tuple(b["input_ids"].shape) for b in batches} == {(4, 32)}
    assert len(batches) == len(dm.splits["train"]) // 4
    assert batches[0]["input_ids"].dtype == torch.int64
    assert len(dm.val_dataloader()) >= 1


def test_batch_size_beyond_the_training_blocks_says_what_to_change(tmp_path):
    dm = MovieScriptsDataModule(block_size=1024, batch_size=4096, cache_dir=str(tmp_path))
    dm.setup("fit")
    with pytest.raises(UserInputError, match=r"data.batch_size=4096 is more than the \d+ training blocks"):
        dm.train_dataloader()


def test_second_run_reads_the_cache_instead_of_tokenizing(tmp_path, monkeypatch):
    first = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    first.setup("fit")

    def fail(*_):
        raise AssertionError("tokenized again despite an identical cached source")

    monkeypatch.setattr(MovieScriptsDataModule, "_build", fail)
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


def _numbered_lines(n: int) -> str:
    return "".join(f"line {i:04d} of a novel, told as it was written.\n" for i in range(n))


def _line_numbers(dm: MovieScriptsDataModule, split: str) -> list[int]:
    """The line numbers whose text a split's token stream holds in full."""
    text = dm.tokenizer().decode(dm.splits[split].blocks_view().ravel())
    return [int(n) for n in re.findall(r"line (\d{4}) of a novel, told as it was written\.\n", text)]


def test_one_text_file_is_split_by_position_and_says_so(tmp_path, caplog):
    """One file is the usual input elsewhere (nanoGPT, run_clm.py): validation is the end of the text,
    test the part before it, training the rest; no line in two splits, in the text's order."""
    source = tmp_path / "novel.txt"
    source.write_text(_numbered_lines(400))
    dm = MovieScriptsDataModule(source=str(source), block_size=16, cache_dir=str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO):
        dm.setup("fit")
    assert "1 document(s), split by position (too few documents to split by script)" in caplog.text
    assert "validation: the last 10% of the text" in caplog.text
    train, val, test = (_line_numbers(dm, split) for split in ("train", "validation", "test"))
    assert max(train) < min(test) and max(test) < min(val)  # in order, never overlapping
    assert 30 <= len(val) <= 40 and 30 <= len(test) <= 40 and len(train) >= 300  # about 10%, 10%, 80%
    (text,) = dm._prepared_scripts("validation")["text"]  # the text-level view: the same cut
    assert _numbered_lines(400).endswith(text) and text.startswith(f"line {min(val):04d}")


def test_a_folder_with_enough_scripts_is_still_split_by_whole_script(tmp_path, caplog):
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(_numbered_lines(50))
    dm = MovieScriptsDataModule(source=str(tmp_path), block_size=16, cache_dir=str(tmp_path / "cache"))
    with caplog.at_level(logging.INFO):
        dm.setup("fit")
    assert "3 document(s), split by whole script" in caplog.text and "validation: 1 scripts" in caplog.text


def test_position_split_too_small_for_a_validation_block_says_what_to_change(tmp_path):
    (tmp_path / "short.txt").write_text(_numbered_lines(40))
    dm = MovieScriptsDataModule(source=str(tmp_path / "short.txt"), block_size=64, cache_dir=str(tmp_path / "c"))
    with pytest.raises(UserInputError, match=r"validation split \(the last 10% of the text, \d+ tokens\) is smaller "):
        dm.setup("fit")
    with pytest.raises(UserInputError, match="lower data.block_size or raise data.val_fraction"):
        dm.setup("fit")


def test_two_files_with_a_test_split_are_split_by_position_across_both(tmp_path):
    (tmp_path / "a.txt").write_text(_numbered_lines(300))
    (tmp_path / "b.txt").write_text(_numbered_lines(300).replace("line 0", "line 1"))
    dm = MovieScriptsDataModule(source=str(tmp_path), block_size=16, cache_dir=str(tmp_path / "c"))
    dm.setup("fit")
    val, test = _line_numbers(dm, "validation"), _line_numbers(dm, "test")
    assert min(val) >= 1000 and 50 <= len(val) <= 60  # the end of the second file, 10% of 600 lines
    assert max(test) < min(val) and 50 <= len(test) <= 60
    cache = str(tmp_path / "c")
    no_test = MovieScriptsDataModule(source=str(tmp_path), test_fraction=0, block_size=16, cache_dir=cache)
    no_test.setup("fit")  # two documents are enough for train and validation: one whole file each
    assert set(no_test.splits) == {"train", "validation"} and len(_line_numbers(no_test, "validation")) == 300


def test_prose_is_kept_as_written_and_screenplays_are_normalised(tmp_path, caplog):
    prose = tmp_path / "prose.txt"
    prose.write_text("  It was a cold day.   The clocks struck thirteen.\n\n\n\nHe walked home.\n" * 40)
    with caplog.at_level(logging.INFO):
        kept = MovieScriptsDataModule(source=str(prose), block_size=16, cache_dir=str(tmp_path / "c"))
        kept.setup("fit")
    assert not kept.normalising() and "no screenplay layout: kept as written" in caplog.text
    assert "   The clocks" in kept.tokenizer().decode(kept.splits["train"].blocks_view().ravel())
    forced = MovieScriptsDataModule(source=str(prose), normalize=True)
    assert forced.normalising() and "data.normalize=true" in forced._normalisation_note()
    assert MovieScriptsDataModule().normalising()  # the embedded screenplays, as before
    assert not MovieScriptsDataModule(normalize=False).normalising()


def test_train_validation_and_test_scripts_are_disjoint_and_test_has_its_own_blocks(tmp_path):
    dm = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    dm.setup("fit")
    scripts = dm._prepared_scripts()["text"]
    train, val, test = (set(map(scripts.__getitem__, indices)) for indices in dm._split(len(scripts)))
    assert train and val and test and not (train & val or train & test or val & test)
    blocks = {name: {tuple(b.tolist()) for b in dm.splits[name].blocks_view()} for name in dm.splits}
    assert not blocks["test"] & blocks["validation"] and not blocks["test"] & blocks["train"]
    assert next(iter(dm.test_dataloader()))["input_ids"].tolist()[0] in map(list, blocks["test"])


def test_no_test_split_refuses_test_and_is_cached_apart(tmp_path):
    without = MovieScriptsDataModule(block_size=32, test_fraction=0.0, cache_dir=str(tmp_path))
    without.setup("fit")
    assert set(without.splits) == {"train", "validation"}
    with pytest.raises(UserInputError, match="data.test_fraction=0 leaves no test split"):
        without.test_dataloader()
    with_test = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    with_test.setup("fit")  # a cache built without the test split is not taken for one with it
    assert set(with_test.splits) == {"train", "validation", "test"}
    assert len([p for p in tmp_path.iterdir() if p.name != "tokenizers"]) == 2


def _packed_in_memory(dm: MovieScriptsDataModule) -> dict[str, np.ndarray]:
    """The previous pipeline: every script's tokens in Python lists, packed by ``pack_blocks``."""
    tokenizer = load_tokenizer(dm.hparams.tokenizer)
    texts = list(dm._prepared_scripts()["text"])
    ids = tokenizer(texts, verbose=False)["input_ids"]
    names = ("train", "validation", "test")
    return {
        name: pack_blocks((ids[i] for i in indices), tokenizer.eos_token_id, dm.block_size)[0]
        for name, indices in zip(names, dm._split(len(texts)))
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


def test_zero_processes_are_refused_in_one_line():
    with pytest.raises(UserInputError, match=r"data.num_proc=0 must be at least 1"):
        MovieScriptsDataModule(num_proc=0)


def test_validation_scripts_normalise_only_the_validation_split(monkeypatch):
    import lit_gpt2.data.datamodule as datamodule

    seen = []
    real = datamodule.normalise_screenplay
    monkeypatch.setattr(datamodule, "normalise_screenplay", lambda text: seen.append(text) or real(text))
    dm = MovieScriptsDataModule(control="genre")
    scripts = dm.validation_scripts()
    _, val_idx, _ = dm._split(326)
    assert len(seen) == len(val_idx) == len(scripts) < 326
    assert [genre for genre, _ in scripts] == [dm.script_genres()[i] for i in val_idx]
    assert [text for _, text in scripts] == [real(text) for text in seen]


def test_training_scripts_pair_each_training_script_with_its_genre():
    dm = MovieScriptsDataModule(control="genre")
    train_idx, _, _ = dm._split(326)
    scripts = dm.training_scripts()
    assert [genre for genre, _ in scripts] == [dm.script_genres()[i] for i in train_idx]
    assert [text for _, text in scripts] == dm.training_texts()
    assert not {text for _, text in scripts} & {text for _, text in dm.validation_scripts()}


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
