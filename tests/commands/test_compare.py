import csv

import pytest

from lit_gpt2.commands.compare import CHARTED
from lit_gpt2.decoding.reading import read_comparison


def test_compare_writes_report_metrics_and_charts_for_two_models(run_cli, tiny_export, tmp_path):
    out = tmp_path / "report"
    strategies = '["greedy", "beam-5", "temperature-1.5", "top-p-0.9"]'
    args = ["compare", f"--model={tiny_export}", f"--baseline={tiny_export}", f"--strategies={strategies}"]
    assert run_cli([*args, "--max_new_tokens=6", f"--out={out}"]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [(r["model"], r["strategy"]) for r in rows] == [
        (m, s) for m in ("model", "baseline") for s in ("greedy", "beam-5", "temperature-1.5", "top-p-0.9")
    ]
    report = (out / "report.md").read_text()
    sections = ("## Reading", "## Metrics: model", "## Metrics: baseline", "### beam-5", "| prompt | continuation |")
    assert all(section in report for section in sections)
    for chart in [*CHARTED, "next_token_model", "next_token_baseline"]:
        png = out / "charts" / f"{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", chart
    greedy = next(r for r in rows if r["strategy"] == "greedy")
    hot = next(r for r in rows if r["strategy"] == "temperature-1.5")
    assert float(greedy["perplexity"]) < float(hot["perplexity"])


def _metrics(**overrides):
    base = {"distinct_2": 0.5, "rep_2": 10.0, "repetition_rate": 0.0, "perplexity": 10.0, "self_bleu4": 0.1}
    return base | overrides


def test_reading_names_what_the_numbers_show():
    lines = read_comparison(
        {
            "greedy": _metrics(distinct_2=0.1, rep_2=80.0, repetition_rate=50.0, perplexity=2.0, self_bleu4=0.9),
            "top-p-0.9": _metrics(distinct_2=0.9, rep_2=1.0, perplexity=40.0),
        }
    )
    text = " ".join(lines)
    assert "Most varied wording: **top-p-0.9** (distinct-2 0.9)" in text
    assert "least varied: **greedy**" in text
    assert "Most repetitive: **greedy** (rep-2 80%)" in text
    assert "greedy (50% of samples)" in text
    assert "Most predictable to the model itself: **greedy** (sample perplexity 2)" in text


def test_a_classifier_scores_each_strategy_in_report_csv_and_chart(run_cli, tiny_export, tiny_classifier, tmp_path):
    out = tmp_path / "report"
    args = ["compare", f"--model={tiny_export}", "--strategies", "greedy", "top-k-40", "--max_new_tokens=6"]
    assert run_cli([*args, f"--classifier={tiny_classifier}", "--classifier_device=cpu", f"--out={out}"]) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["strategy"] for r in rows] == ["greedy", "top-k-40"]
    for row in rows:
        shares = [float(row["classifier/share/comedy"]), float(row["classifier/share/noir"])]
        assert sum(shares) == pytest.approx(1.0) and 0.5 <= float(row["classifier/mean_score"]) <= 1.0
    report = (out / "report.md").read_text()
    assert f"## Classifier: {tiny_classifier}" in report
    assert "| strategy | share/comedy | share/noir | mean score |" in report
    assert "| greedy | " in report.split("## Classifier")[1] and "![classifier](charts/classifier.png)" in report
    assert (out / "charts" / "classifier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_language_model_as_classifier_is_refused_in_one_line(run_cli, tiny_export, tmp_path, capsys):
    args = ["compare", f"--model={tiny_export}", f"--classifier={tiny_export}", f"--out={tmp_path / 'report'}"]
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert "is not a text-classification model (GPT2LMHeadModel)" in err and "Traceback" not in err
    assert not (tmp_path / "report").exists()  # refused before any generation


def test_genres_give_a_row_per_strategy_and_genre_with_the_code_in_each_prompt(
    run_cli, coded_export, tiny_classifier, tmp_path
):
    out = tmp_path / "report"
    args = ["compare", f"--model={coded_export}", "--strategies", "greedy", "top-k-40", "--genres", "noir", "comedy"]
    args += ["--prompt=INT. DINER", "--max_new_tokens=6", f"--classifier={tiny_classifier}", f"--out={out}"]
    assert run_cli(args) == 0
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [(r["strategy"], r["genre"]) for r in rows] == [
        ("greedy", "noir"),
        ("greedy", "comedy"),
        ("top-k-40", "noir"),
        ("top-k-40", "comedy"),
    ]
    assert all(float(r["classifier/share/comedy"]) + float(r["classifier/share/noir"]) == 1.0 for r in rows)
    report = (out / "report.md").read_text()
    assert "### greedy [noir]" in report and "| top-k-40 [comedy] | " in report.split("## Classifier")[1]
    noir_samples = report.split("### greedy [noir]")[1].split("###")[0]
    assert "<\\|genre:noir\\|>INT. DINER" in noir_samples  # the code starts the prompt (| escaped)


def test_genres_are_refused_for_a_model_without_them_naming_which_model(
    run_cli, coded_export, tiny_export, tmp_path, capsys
):
    args = ["compare", f"--model={coded_export}", "--strategies=[greedy]", f"--out={tmp_path / 'report'}"]
    assert run_cli([*args, "--genres", "opera"]) == 2
    assert "model: unknown genre 'opera': this model knows comedy, noir" in capsys.readouterr().err
    assert run_cli([*args, "--genres", "noir", f"--baseline={tiny_export}"]) == 2
    assert "baseline: genre 'noir': this model was trained without genre codes" in capsys.readouterr().err


def test_several_samples_per_prompt_and_a_stop_string_reach_the_report(run_cli, tiny_export, tmp_path):
    out = tmp_path / "report"
    args = ["compare", f"--model={tiny_export}", "--strategies", "greedy", "top-k-40", "--max_new_tokens=6"]
    assert run_cli([*args, "--prompt=INT. DINER", "--num_samples=3", "--stop", "\\n\\n", f"--out={out}"]) == 0
    report = (out / "report.md").read_text()
    assert "3 samples per prompt under each sampling strategy. Stop strings: '\\n\\n'." in report
    assert report.split("### top-k-40")[1].count("| INT. DINER |") == 3
