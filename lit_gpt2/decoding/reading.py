"""A short plain-language reading of a strategy comparison, built only from the measured numbers."""

import math


def _fmt(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _extreme(metrics: dict[str, dict[str, float]], metric: str, highest: bool) -> tuple[str, float]:
    finite = {name: m[metric] for name, m in metrics.items() if not math.isnan(m[metric])}
    name = (max if highest else min)(finite, key=finite.__getitem__)
    return name, finite[name]


def read_comparison(
    metrics: dict[str, dict[str, float]], baseline: dict[str, dict[str, float]] | None = None
) -> list[str]:
    """Sentences on diversity, repetition, predictability and (with a baseline) what training changed.

    ``metrics`` maps strategy name -> metric name -> value, as ``strategy_metrics`` returns them.
    """
    if len(metrics) < 2:
        return ["Only one strategy was run: nothing to compare."]
    lines = []
    most, most_v = _extreme(metrics, "distinct_2", highest=True)
    least, least_v = _extreme(metrics, "distinct_2", highest=False)
    lines.append(
        f"Most varied wording: **{most}** (distinct-2 {_fmt(most_v)}); least varied: **{least}** "
        f"(distinct-2 {_fmt(least_v)})."
    )
    rep, rep_v = _extreme(metrics, "rep_2", highest=True)
    looped = {n: m["repetition_rate"] for n, m in metrics.items() if m["repetition_rate"] > 0}
    loops = ", ".join(f"{n} ({_fmt(v)}% of samples)" for n, v in sorted(looped.items(), key=lambda kv: -kv[1]))
    lines.append(
        f"Most repetitive: **{rep}** (rep-2 {_fmt(rep_v)}%). "
        + (f"Samples ending in a loop: {loops}." if looped else "No sample ended in a loop.")
    )
    safe, safe_v = _extreme(metrics, "perplexity", highest=False)
    wild, wild_v = _extreme(metrics, "perplexity", highest=True)
    lines.append(
        f"Most predictable to the model itself: **{safe}** (sample perplexity {_fmt(safe_v)}); most surprising: "
        f"**{wild}** ({_fmt(wild_v)}). Low perplexity with high repetition is the greedy/beam failure mode; "
        "very high perplexity means the sampler is reaching into the unreliable tail."
    )
    if not all(math.isnan(m["self_bleu4"]) for m in metrics.values()):
        alike, alike_v = _extreme(metrics, "self_bleu4", highest=True)
        lines.append(f"Samples most alike across prompts: **{alike}** (Self-BLEU-4 {_fmt(alike_v)}).")
    if baseline:
        shared = [n for n in metrics if n in baseline]
        changes = ", ".join(
            f"{n} {_fmt(baseline[n]['perplexity'])} -> {_fmt(metrics[n]['perplexity'])}" for n in shared
        )
        lines.append(f"Sample perplexity under each model, baseline -> model: {changes}.")
    return lines
