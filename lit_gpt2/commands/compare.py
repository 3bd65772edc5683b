"""``lit-gpt2 compare``: the strategy grid on one prompt set, optionally for two models, as a report folder."""

import csv
from pathlib import Path

from jsonargparse import ArgumentParser
from rich.progress import track

from lit_gpt2.checkpoints import load_model_and_tokenizer
from lit_gpt2.commands.prompts import add_prompt_arguments, read_prompts
from lit_gpt2.decoding.distribution import next_token_distribution
from lit_gpt2.decoding.evaluate import StrategyResult, evaluate_samples
from lit_gpt2.decoding.generate import DEFAULT_PROMPTS, generate_samples
from lit_gpt2.decoding.reading import read_comparison
from lit_gpt2.decoding.strategies import PRESETS, resolve_strategies
from lit_gpt2.plots import metric_bars, next_token_chart

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


def compare_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 compare", description="Compare decoding strategies (and two models).")
    parser.add_argument("--model", type=str, required=True, help="A .ckpt, an exported folder, or a hub name.")
    parser.add_argument("--baseline", type=str | None, default=None, help="Second model, e.g. the base before tuning.")
    add_prompt_arguments(parser)
    parser.add_argument("--strategies", type=list[str], default=list(PRESETS), help="Preset names to run.")
    parser.add_argument("--max_new_tokens", type=int, default=48, help="Tokens to generate per prompt.")
    parser.add_argument("--seed", type=int, default=0, help="Sampling seed, the same for every strategy and model.")
    parser.add_argument("--out", type=str, required=True, help="Report folder (created if missing).")
    cfg = parser.parse_args(argv)
    prompts = read_prompts(cfg.prompt, cfg.prompts_file, default=list(DEFAULT_PROMPTS))
    strategies = resolve_strategies(cfg.strategies)
    out = Path(cfg.out)
    (out / "charts").mkdir(parents=True, exist_ok=True)

    runs: dict[str, dict[str, StrategyResult]] = {}
    for label, spec in (("model", cfg.model), ("baseline", cfg.baseline)):
        if spec is None:
            continue
        model, tokenizer = load_model_and_tokenizer(spec)
        runs[label] = {
            s.name: evaluate_samples(
                model, generate_samples(model, tokenizer, prompts, s, cfg.max_new_tokens, cfg.seed)
            )
            for s in track(strategies, description=f"{label}: strategies")
        }
        chart = next_token_chart(next_token_distribution(model, tokenizer, prompts[0]))
        chart.savefig(out / "charts" / f"next_token_{label}.png", dpi=110)

    metrics = {label: {n: r.metrics for n, r in results.items()} for label, results in runs.items()}
    _write_csv(out / "metrics.csv", metrics)
    for metric in CHARTED:
        values = {n: m[metric] for n, m in metrics["model"].items()}
        base = {n: m[metric] for n, m in metrics["baseline"].items()} if "baseline" in metrics else None
        metric_bars(metric, values, base).savefig(out / "charts" / f"{metric}.png", dpi=110)
    report = _report(cfg, runs, metrics, prompts)
    (out / "report.md").write_text(report, encoding="utf-8")
    print(f"Wrote {out / 'report.md'}, {out / 'metrics.csv'} and {len(CHARTED) + len(runs)} charts in {out / 'charts'}")


def _write_csv(path: Path, metrics: dict[str, dict[str, dict[str, float]]]) -> None:
    names = list(next(iter(next(iter(metrics.values())).values())))
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["model", "strategy", *names])
        for label, by_strategy in metrics.items():
            for strategy, values in by_strategy.items():
                writer.writerow([label, strategy, *(f"{values[n]:.6g}" for n in names)])


def _report(cfg, runs, metrics, prompts) -> str:
    columns = list(CHARTED)
    lines = [
        "# Decoding strategies compared",
        "",
        f"Model: `{cfg.model}`" + (f"; baseline: `{cfg.baseline}`" if cfg.baseline else ""),
        f"{len(prompts)} prompt(s), {cfg.max_new_tokens} new tokens, seed {cfg.seed} for every strategy and model.",
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
    lines += ["## Charts", "", *(f"![{m}](charts/{m}.png)" for m in CHARTED), ""]
    for label, results in runs.items():
        lines += [f"## Samples: {label}", ""]
        for name, result in results.items():
            lines += [f"### {name}", "", result.samples.markdown(), ""]
    return "\n".join(lines)
