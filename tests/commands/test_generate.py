import json

import pytest

from lit_gpt2.commands.prompts import read_prompts
from lit_gpt2.errors import UserInputError


def test_generate_prints_and_writes_jsonl(run_cli, tiny_export, tmp_path, capsys):
    out = tmp_path / "samples.jsonl"
    args = ["generate", f"--model={tiny_export}", "--prompt=INT. DINER\\n", "--prompt=MARGO\\n", "--max_new_tokens=5"]
    assert run_cli([*args, "--strategy=top-k-40", "--seed=3", f"--jsonl={out}"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("=== top-k-40 | seed 3 ===") == 2
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["prompt"] for r in records] == ["INT. DINER\n", "MARGO\n"]
    assert all(r["top_k"] == 40 and r["do_sample"] and r["seed"] == 3 for r in records)
    assert all(r["prompt"] + r["continuation"] in printed for r in records)


def test_same_seed_same_text_and_explicit_parameters_override_the_preset(run_cli, tiny_export, capsys):
    args = ["generate", f"--model={tiny_export}", "--prompt=EXT. DESERT", "--max_new_tokens=8", "--temperature=1.4"]
    assert run_cli([*args, "--seed=1"]) == 0
    first = capsys.readouterr().out
    assert run_cli([*args, "--seed=1"]) == 0
    assert capsys.readouterr().out == first
    assert "greedy(temperature=1.4,do_sample=True)" in first


def test_invalid_parameter_is_one_clear_line(run_cli, tiny_export, capsys):
    assert run_cli(["generate", f"--model={tiny_export}", "--prompt=x", "--top_p=1.5"]) == 2
    err = capsys.readouterr().err
    assert "top_p=1.5 must be in (0, 1]" in err and "Traceback" not in err


def test_prompts_from_files(tmp_path):
    text = tmp_path / "prompts.txt"
    text.write_text("INT. DINER\n\nMARGO\n---\nEXT. DESERT\n")
    assert read_prompts(["A\\nB"], str(text)) == ["A\nB", "INT. DINER\n\nMARGO\n", "EXT. DESERT\n"]
    jsonl = tmp_path / "prompts.jsonl"
    jsonl.write_text('{"prompt": "one"}\n{"prompt": "two"}\n')
    assert read_prompts(None, str(jsonl)) == ["one", "two"]
    jsonl.write_text('{"text": "one"}\n')
    with pytest.raises(UserInputError, match="'prompt' field"):
        read_prompts(None, str(jsonl))
    with pytest.raises(UserInputError, match="no prompt given"):
        read_prompts(None, None)


def test_several_samples_a_stop_string_and_past_the_context_in_jsonl(run_cli, tiny_export, tmp_path, capsys):
    """The tiny model's context is 128 tokens: 150 new ones slide the window instead of being refused."""
    out = tmp_path / "samples.jsonl"
    args = ["generate", f"--model={tiny_export}", "--prompt=INT. DINER\\n", "--strategy=top-p-0.9", "--seed=5"]
    args += ["--num_samples=2", "--max_new_tokens=150", "--stop", "zzzz", "\\n\\n"]
    assert run_cli([*args, f"--jsonl={out}"]) == 0
    assert "sample 2 of 2" in capsys.readouterr().out
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["sample"] for r in records] == [0, 1] and records[0]["continuation"] != records[1]["continuation"]
    assert all(r["stop"] == ["zzzz", "\n\n"] and r["seed"] == 5 and r["max_new_tokens"] == 150 for r in records)
    assert all(r["num_samples"] == 2 and r["top_p"] == 0.9 and r["model"] == str(tiny_export) for r in records)


@pytest.mark.parametrize(
    ("option", "message"), [("--num_samples=0", "num_samples=0"), ("--stop=", "stop string is empty")]
)
def test_bad_generation_controls_are_one_line(run_cli, tiny_export, capsys, option, message):
    assert run_cli(["generate", f"--model={tiny_export}", "--prompt=x", option]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
