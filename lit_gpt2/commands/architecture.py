"""``lit-gpt2 architecture``: GPT-2's components, parameters and costs, and how it differs from BERT, BART, T5."""

import json
from pathlib import Path

from lit_gpt2.inspect.anatomy import meta_gpt2
from lit_gpt2.inspect.architecture_report import describe


def architecture_command(model: str = "gpt2", compare: list[str] | None = None, out: str | None = None) -> None:
    """GPT-2's anatomy: components, parameters, FLOPs and KV cache, built on the meta device (no weights).

    Args:
        model: A size preset (gpt2, gpt2-medium, ...), a saved or exported folder, or a hub name.
        compare: Other model families to set beside it, space-separated: bert bart t5 xlnet.
        out: Also write architecture.md and architecture.json into this folder.
    """
    markdown, data = describe(meta_gpt2(model), model, list(compare or []))  # unknown families refused there
    print(markdown)
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "architecture.md").write_text(markdown, encoding="utf-8")
        (folder / "architecture.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        print(f"Wrote {folder / 'architecture.md'} and {folder / 'architecture.json'}")
