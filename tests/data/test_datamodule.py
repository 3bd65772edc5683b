import logging
import re

import pytest
import torch

from lit_gpt2.data.datamodule import MovieScriptsDataModule
from lit_gpt2.errors import UserInputError


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


def _numbered_lines(n: int) -> str:
    return "".join(f"line {i:04d} of a novel, told as it was written.\n" for i in range(n))


def _line_numbers(dm: MovieScriptsDataModule, split: str) -> list[int]:
    """The line numbers whose text a split's token stream holds in full."""
    text = dm.tokenizer.decode(dm.splits[split].blocks_view().ravel())
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
    (text,) = dm.corpus.scripts("validation")["text"]  # the text-level view: the same cut
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
    assert "   The clocks" in kept.tokenizer.decode(kept.splits["train"].blocks_view().ravel())
    forced = MovieScriptsDataModule(source=str(prose), normalize=True)
    assert forced.normalising() and "data.normalize=true" in forced.corpus.normalisation_note()
    assert MovieScriptsDataModule().normalising()  # the embedded screenplays, as before
    assert not MovieScriptsDataModule(normalize=False).normalising()


def test_train_validation_and_test_scripts_are_disjoint_and_test_has_its_own_blocks(tmp_path):
    dm = MovieScriptsDataModule(block_size=32, cache_dir=str(tmp_path))
    dm.setup("fit")
    scripts = dm.corpus.scripts()["text"]
    train, val, test = (set(map(scripts.__getitem__, indices)) for indices in dm.corpus.split(len(scripts)))
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


def test_zero_processes_are_refused_in_one_line():
    with pytest.raises(UserInputError, match=r"data.num_proc=0 must be at least 1"):
        MovieScriptsDataModule(num_proc=0)
