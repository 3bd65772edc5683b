"""Folders written beside their place and renamed: a failed write leaves the old folder, never a mix."""

import pytest

from lit_gpt2.files import replaced_atomically


def test_a_finished_write_replaces_the_folder_and_leaves_nothing_beside_it(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with replaced_atomically(target) as work:
        (work / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible until the block ends
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["export"]


def test_a_failed_write_keeps_the_old_folder_untouched(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "config.json").write_text("the user's")
    with pytest.raises(OSError, match="No space left"), replaced_atomically(target) as work:
        (work / "config.json").write_text("half")
        raise OSError(28, "No space left on device")
    assert (target / "config.json").read_text() == "the user's"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
