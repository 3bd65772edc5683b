"""The repeated-runs corpus of configs/induction.yaml: each document says one run of words twice."""

import json

import pytest

from lit_gpt2.data.synthetic import made_up_words, repeated_runs


def test_each_document_is_a_run_said_twice_within_the_lengths():
    texts = list(repeated_runs(200, vocabulary=50, min_length=3, max_length=6, seed=1))
    assert len(texts) == 200
    for text in texts:
        words = text.split()
        half = len(words) // 2
        assert 3 <= half <= 6 and words[:half] == words[half:]
    assert {len(t.split()) // 2 for t in texts} == {3, 4, 5, 6}  # every length occurs
    assert set(" ".join(texts).split()) <= set(made_up_words(50, seed=1))
    assert texts == list(repeated_runs(200, vocabulary=50, min_length=3, max_length=6, seed=1))  # seeded


def test_words_are_distinct_and_the_count_is_checked():
    words = made_up_words(512)
    assert len(set(words)) == 512 and all(w.isalpha() and len(w) == 4 for w in words)
    with pytest.raises(ValueError, match="count=5000 must be from 1 to 4900"):
        made_up_words(5000)


def test_the_command_writes_json_lines_and_refuses_bad_lengths_in_one_line(run_cli, tmp_path, capsys):
    out = tmp_path / "runs.jsonl"
    assert run_cli(["repeated-text", f"--out={out}", "--documents=20", "--vocabulary=30"]) == 0
    lines = [json.loads(line)["text"] for line in out.read_text().splitlines()]
    assert lines == list(repeated_runs(20, vocabulary=30))
    assert run_cli(["repeated-text", f"--out={out}", "--min_length=9", "--max_length=4"]) == 2
    err = capsys.readouterr().err
    assert "repeated-text: run lengths 9..4: need 1 <= min_length <= max_length" in err and "Traceback" not in err
