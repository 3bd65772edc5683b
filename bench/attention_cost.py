"""What one attention probe costs the callback: GPT-2 small's shape (12 layers x 12 heads), random
weights, a 64-token probe, on this machine's CPU.

    python -m bench.attention_cost [--preset gpt2] [--tokens 64] [--repeats 3]
"""

import argparse
import statistics
import time

from lit_gpt2.inspect.probe import probe_attention
from lit_gpt2.inspect.statistics import attention_rollout, attention_statistics
from lit_gpt2.module import GPT2LitModule
from lit_gpt2.plots import attention_grid, attention_heatmap, figure_to_array


def one_probe(module: GPT2LitModule, text: str) -> dict[str, float]:
    """The callback's work, rendering included (to the arrays the callback logs)."""
    times = {}
    start = time.perf_counter()
    probe = probe_attention(module.model, module.tokenizer, [text])
    times["probe"] = time.perf_counter() - start
    mark = time.perf_counter()
    for layer in range(len(probe.attentions)):
        attention_statistics(probe.attentions[layer], probe.attention_mask)
    times["statistics"] = time.perf_counter() - mark
    mark = time.perf_counter()
    figures = [attention_grid(probe.attentions)]
    last = len(probe.attentions) - 1
    figures += [attention_heatmap(probe.attentions[layer][0, 0], probe.tokens[0], "") for layer in (0, last)]
    figures.append(attention_heatmap(attention_rollout(probe.attentions)[0], probe.tokens[0], "rollout"))
    for figure in figures:
        figure_to_array(figure)
    times["figures"] = time.perf_counter() - mark
    times["total"] = time.perf_counter() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.attention_cost")
    parser.add_argument("--preset", default="gpt2")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    module = GPT2LitModule(preset=args.preset)
    words = " ".join(["MARGO pours the coffee and looks at the door."] * 20)
    ids = module.tokenizer(words)["input_ids"][: args.tokens - 1]  # the probe prepends <|endoftext|>
    text = module.tokenizer.decode(ids)
    runs = [one_probe(module, text) for _ in range(args.repeats)]
    config = module.model.config
    print(f"{args.preset}: {config.n_layer} layers x {config.n_head} heads, {args.tokens}-token probe, CPU")
    print(f"| part | seconds (median of {args.repeats}) |\n|---|---|")
    for part in runs[0]:
        print(f"| {part} | {statistics.median(r[part] for r in runs):.2f} |")


if __name__ == "__main__":
    main()
