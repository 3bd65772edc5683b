"""``lit-gpt2 compare``: the strategy grid on one prompt set, optionally for two models, as a report folder."""

import csv
from functools import partial
from pathlib import Path

from rich.progress import track

from lit_gpt2.checkpoints import check_model_spec, load_model_and_tokenizer
from lit_gpt2.commands.prompts import read_prompts
from lit_gpt2.decoding.classify import classify_texts, label_shares, load_classifier
from lit_gpt2.decoding.distribution import next_token_distribution
from lit_gpt2.decoding.evaluate import StrategyResult
from lit_gpt2.decoding.generate import DEFAULT_PROMPTS, check_generation_controls
from lit_gpt2.decoding.grid import sample_grid
from lit_gpt2.decoding.reading import read_comparison
from lit_gpt2.decoding.strategies import PRESETS, resolve_strategies
from lit_gpt2.errors import UserInputError
from lit_gpt2.plots import label_share_bars, metric_bars, next_token_chart

CHARTED = (
    "structure",
    "distinct_2",
    "rep_2",
    "diversity",
    "self_bleu4",
    "repetition_rate",
    "perplexity",
    "mean_length",
)


def compare_command(
    model: str,
    out: str,
    baseline: str | None = None,
    prompt: list[str] | None = None,
    prompts_file: str | None = None,
    strategies: list[str] | None = None,
    max_new_tokens: int = 48,
    seed: int = 0,
    classifier: str | None = None,
    classifier_device: str | None = None,
    genres: list[str] | None = None,
    num_samples: int = 1,
    stop: list[str] | None = None,
) -> None:
    """Compare decoding strategies on one prompt set (and two models), as a report folder: report.md,
    metrics.csv and charts.

    Args:
        model: The model: a .ckpt, an exported folder, or a hub name.
        out: Report folder (created if missing).
        baseline: A second model run on the same prompts and seeds, e.g. the base model before tuning.
        prompt: Prompt texts, space-separated or the option repeated; \\n stands for a line break.
            Default: the sample callback's screenplay prompts.
        prompts_file: More prompts: a .jsonl file with a "prompt" field per line, or text with prompts
            separated by lines holding only ---.
        strategies: Preset names to run, space-separated; default every preset.
        max_new_tokens: Tokens to generate per prompt.
        seed: Sampling seed, the same for every strategy and model.
        classifier: A text-classification model (a local folder, or a hub name online) that scores every
            sample: label shares and mean score per strategy in report.md, metrics.csv and a chart.
        classifier_device: Device of the classifier ("cpu", "cuda:1", ...); default the first GPU, else the CPU.
        genres: Genres to ask for, space-separated (models trained with data.control=genre): every strategy
            runs once per genre with its code before each prompt, a row per strategy and genre.
        num_samples: Samples per prompt under each sampling strategy (the metrics, Self-BLEU included,
            read them all; greedy and beam search give one answer).
        stop: Stop strings, space-separated or the option repeated (\\n stands for a line break): a sample
            ends with the first one it writes.
    """
    for option, spec in (("--model", model), ("--baseline", baseline)):
        if spec is not None:
            check_model_spec(spec, option)  # every input checked before minutes of generating
    prompts = read_prompts(prompt, prompts_file, default=list(DEFAULT_PROMPTS))
    chosen = resolve_strategies(strategies or list(PRESETS))
    stop = [text.replace("\\n", "\n") for text in stop or []]
    check_generation_controls(num_samples, stop)
    scorer = load_classifier(classifier, classifier_device) if classifier else None  # refused before generating
    folder = Path(out)
    (folder / "charts").mkdir(parents=True, exist_ok=True)

    # A row per strategy and genre asked for (None: no code), named "top-p-0.9 [noir]" in the report.
    asked: list[str | None] = [*genres] if genres else [None]
    rows = {row_name(s.name, genre): (s, genre) for s in chosen for genre in asked}
    runs: dict[str, dict[str, StrategyResult]] = {}
    for label, spec in (("model", model), ("baseline", baseline)):
        if spec is None:
            continue
        loaded, tokenizer = load_model_and_tokenizer(spec)
        progress = partial(track, description=f"{label}: strategies")
        try:
            grid = sample_grid(
                loaded, tokenizer, prompts, chosen, asked, max_new_tokens, seed,
                progress=progress, num_samples=num_samples, stop=stop,
            )  # fmt: skip
        except UserInputError as err:  # a genre the model lacks: say which model
            raise UserInputError(f"{label}: {err}") from None
        runs[label] = {row_name(s.name, genre): result for (s, genre), result in grid.items()}
        chart = next_token_chart(next_token_distribution(loaded, tokenizer, prompts[0]))
        chart.savefig(folder / "charts" / f"next_token_{label}.png", dpi=110)

    # Per model, then strategy and genre: label shares and mean score of the samples.
    classified = {
        label: {n: classify_texts(scorer, r.samples.texts) for n, r in results.items()} if scorer else {}
        for label, results in runs.items()
    }
    metrics = {
        label: {n: r.metrics | _prefixed(classified[label].get(n, {})) for n, r in results.items()}
        for label, results in runs.items()
    }
    _write_csv(folder / "metrics.csv", metrics, {row: (s.name, genre or "") for row, (s, genre) in rows.items()})
    for metric in CHARTED:
        values = {n: m[metric] for n, m in metrics["model"].items()}
        base = {n: m[metric] for n, m in metrics["baseline"].items()} if "baseline" in metrics else None
        metric_bars(metric, values, base).savefig(folder / "charts" / f"{metric}.png", dpi=110)
    heading = f"Model: `{model}`" + (f"; baseline: `{baseline}`" if baseline else "")
    settings = f"{len(prompts)} prompt(s), {max_new_tokens} new tokens, seed {seed} for every strategy and model."
    if num_samples > 1:
        settings += f" {num_samples} samples per prompt under each sampling strategy."
    if stop:
        settings += f" Stop strings: {', '.join(map(repr, stop))}."
    if genres:
        settings += f" Each strategy asked for each genre ({', '.join(genres)}): its code starts every prompt."
    section = []
    if classifier:
        classifier_rows = _classifier_rows(classified)
        shares = {row: label_shares(scores) for row, scores in classifier_rows.items()}
        label_share_bars(shares, f"Classifier: {classifier}").savefig(folder / "charts" / "classifier.png", dpi=110)
        section = _classifier_section(classifier, classifier_rows)
    (folder / "report.md").write_text(_report(heading, settings, runs, metrics, section), encoding="utf-8")
    charts = len(CHARTED) + len(runs) + bool(classifier)
    print(f"Wrote {folder / 'report.md'}, {folder / 'metrics.csv'} and {charts} charts in {folder / 'charts'}")


def row_name(strategy: str, genre: str | None) -> str:
    """A report row: the strategy, and the genre asked for when there is one ("top-p-0.9 [noir]")."""
    return strategy if genre is None else f"{strategy} [{genre}]"


def _prefixed(scores: dict[str, float]) -> dict[str, float]:
    return {f"classifier/{name}": value for name, value in scores.items()}


def _classifier_rows(classified: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """One row per strategy, named "model: strategy" when a baseline ran too."""
    several = len(classified) > 1
    return {
        f"{label}: {strategy}" if several else strategy: scores
        for label, by_strategy in classified.items()
        for strategy, scores in by_strategy.items()
    }


def _classifier_section(classifier: str, rows: dict[str, dict[str, float]]) -> list[str]:
    columns = list(next(iter(rows.values())))
    return [
        f"## Classifier: {classifier}",
        "",
        "Share of each label among a strategy's non-empty samples, and the mean score of the label given",
        "(docs/generation-metrics.md, Classifier scoring).",
        "",
        "| strategy | " + " | ".join(c.replace("_", " ") for c in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
        *(f"| {row} | " + " | ".join(f"{s[c]:.3g}" for c in columns) + " |" for row, s in rows.items()),
        "",
        "![classifier](charts/classifier.png)",
        "",
    ]


def _write_csv(path: Path, metrics: dict[str, dict[str, dict[str, float]]], parts: dict[str, tuple[str, str]]) -> None:
    """A line per model and row; ``parts`` splits each row name into its strategy and genre ("": none)."""
    names = list(next(iter(next(iter(metrics.values())).values())))
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["model", "strategy", "genre", *names])
        for label, by_row in metrics.items():
            for row, values in by_row.items():
                writer.writerow([label, *parts[row], *(f"{values[n]:.6g}" for n in names)])


def _report(heading: str, settings: str, runs: dict, metrics: dict, classifier_section: list[str]) -> str:
    columns = list(CHARTED)
    lines = [
        "# Decoding strategies compared",
        "",
        heading,
        settings,
        "Metric definitions: distinct-n over generated tokens (Li et al. 2016), rep-n and diversity (Su et al. 2022),",
        "Self-BLEU-4 (lower = samples differ more), repetition rate = % of samples ending in a loop",
        "(Holtzman et al. 2020), perplexity of the samples under the model's untempered logits, structure =",
        "share of generated lines that are well-formed screenplay in a well-formed order (docs/structure-score.md).",
        "",
        "## Reading",
        "",
        *(f"- {line}" for line in read_comparison(metrics["model"], metrics.get("baseline"))),
        "",
    ]
    for label, by_strategy in metrics.items():
        lines += [f"## Metrics: {label}", "", "| strategy | " + " | ".join(columns) + " |"]
        lines.append("|---" * (len(columns) + 1) + "|")
        lines += [f"| {n} | " + " | ".join(f"{m[c]:.4g}" for c in columns) + " |" for n, m in by_strategy.items()]
        lines += ["", f"![next token](charts/next_token_{label}.png)", ""]
    lines += classifier_section
    lines += ["## Charts", "", *(f"![{m}](charts/{m}.png)" for m in CHARTED), ""]
    for label, results in runs.items():
        lines += [f"## Samples: {label}", ""]
        for name, result in results.items():
            lines += [f"### {name}", "", result.samples.markdown(), ""]
    return "\n".join(lines)
