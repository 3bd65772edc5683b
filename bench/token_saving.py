"""How many GPT-2 tokens screenplay normalisation saves on a source (default: the embedded corpus).

python bench/token_saving.py [SOURCE]
"""

import sys

from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import load_scripts
from lit_gpt2.modeling import load_tokenizer


def main(source: str | None = None) -> None:
    tokenizer = load_tokenizer("gpt2")
    scripts, _ = load_scripts(source)

    def count(texts: list[str]) -> int:
        return sum(len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"])

    texts = list(scripts["text"])
    raw = count(texts)
    normalised = count([normalise_screenplay(t) for t in texts])
    print("| scripts | raw tokens | normalised tokens | saving |\n|---|---|---|---|")
    print(f"| {len(scripts)} | {raw:,} | {normalised:,} | {1 - normalised / raw:.1%} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
