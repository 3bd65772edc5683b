"""``lit-gpt2 architecture``: GPT-2's components, parameters and costs, and how it differs from BERT, BART, T5."""

import json
from pathlib import Path

from jsonargparse import ArgumentParser

from lit_gpt2.modeling.architecture import describe, meta_gpt2


def architecture_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lit-gpt2 architecture", description="GPT-2 anatomy, built on the meta device.")
    parser.add_argument("--model", type=str, default="gpt2", help="Size preset, saved folder or hub name.")
    parser.add_argument("--compare", type=list[str], default=[], help='Other families: ["bert", "bart", "t5"].')
    parser.add_argument("--out", type=str | None, default=None, help="Also write architecture.md and .json here.")
    cfg = parser.parse_args(argv)
    unknown = set(cfg.compare) - {"bert", "bart", "t5"}
    if unknown:
        parser.error(f"--compare takes bert, bart and t5; unknown: {', '.join(sorted(unknown))}")
    markdown, data = describe(meta_gpt2(cfg.model), cfg.model, cfg.compare)
    print(markdown)
    if cfg.out:
        out = Path(cfg.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "architecture.md").write_text(markdown, encoding="utf-8")
        (out / "architecture.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
        print(f"Wrote {out / 'architecture.md'} and {out / 'architecture.json'}")
