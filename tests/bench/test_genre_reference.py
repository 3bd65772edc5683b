"""bench.genre_reference: the naive Bayes reference for val/genre_accuracy."""

import csv

import pytest

from bench.genre_reference import SETTINGS, leave_one_out_accuracy, report, words, words_per_block
from lit_gpt2.errors import UserInputError


def _scenes(genre_words: dict[str, list[str]], per_genre: int, filler: int = 0) -> list[tuple[str, list[str]]]:
    """``per_genre`` scenes of each genre: ``filler`` shared words, then the genre's own words."""
    shared = [f"the{i}" for i in range(filler)]
    return [(genre, shared + own) for genre, own in genre_words.items() for _ in range(per_genre)]


def test_genres_with_their_own_words_are_all_named_right():
    scenes = _scenes({"noir": ["rain", "gun"], "western": ["horse", "dust"], "comedy": ["pie", "oops"]}, per_genre=3)
    assert leave_one_out_accuracy(scenes, None, None) == 1.0


def test_a_classifier_that_learns_from_openings_misses_genre_words_that_come_later():
    scenes = _scenes({"noir": ["rain", "gun"], "western": ["horse", "dust"]}, per_genre=3, filler=5)
    assert leave_one_out_accuracy(scenes, None, None) == 1.0
    # Counting only the shared opening, every genre scores alike: ties go to the first genre (chance).
    assert leave_one_out_accuracy(scenes, 5, None) == 0.5


def test_words_are_lower_case_and_ignore_layout():
    assert words("INT. SALOON - NIGHT\n  Dust, dust.") == ["int", "saloon", "night", "dust", "dust"]


def _table(path, rows: list[tuple[str, str]]) -> str:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "genre"])
        for genre, text in rows:
            writer.writerow([text, genre])
    return str(path)


def test_report_names_chance_and_one_row_per_setting(tmp_path):
    table = _table(tmp_path / "scenes.csv", [("noir", "rain gun"), ("western", "horse dust")] * 2)
    text = report(table, genre_column="genre")
    assert "4 scenes, 2 genres (chance 0.500)" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "accuracy" not in line]
    assert len(rows) == len(SETTINGS)
    assert rows[-1] == "| every word | every word | 1.000 |"


def test_a_larger_fitted_vocabulary_holds_more_words_per_block(tmp_path):
    lines = ["The detective walks into the rain and lights a cigarette.", "The sheriff rides into town at dawn."]
    table = _table(tmp_path / "scenes.csv", [("noir", lines[0] * 3), ("western", lines[1] * 3)] * 10)
    small, large = (words_per_block(table, "genre", size, block_size=64) for size in (260, 400))
    assert 0 < small < large


def test_genres_come_from_a_folder_per_genre_and_scripts_without_one_are_refused(tmp_path):
    for genre, text in [("noir", "rain gun"), ("western", "horse dust")] * 2:
        folder = tmp_path / "scripts" / genre
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{len(list(folder.iterdir()))}.txt").write_text(text)
    assert "4 scenes, 2 genres (chance 0.500)" in report(str(tmp_path / "scripts"))
    table = _table(tmp_path / "scenes.csv", [("noir", "rain gun"), ("western", "horse dust")] * 2)
    with pytest.raises(UserInputError, match="needs each script's genre: set data.genre_column"):
        report(table)
