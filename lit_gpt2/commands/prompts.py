"""Prompts from the command line or a file, shared by the generate and compare commands."""

import json
from pathlib import Path

from lit_gpt2.errors import UserInputError

PROMPT_SEPARATOR = "---"


def read_prompts(prompts: list[str] | None, prompts_file: str | None, default: list[str] | None = None) -> list[str]:
    """``--prompt`` values (``\\n`` means a line break) plus a file's prompts: ``.jsonl`` with a
    ``prompt`` field per line, or plain text with prompts separated by lines holding only ``---``."""
    found = [p.replace("\\n", "\n") for p in prompts or []]
    if prompts_file:
        path = Path(prompts_file)
        if not path.is_file():
            raise UserInputError(f"prompts file {prompts_file!r} does not exist")
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".jsonl":
            try:
                found += [json.loads(line)["prompt"] for line in text.splitlines() if line.strip()]
            except (json.JSONDecodeError, KeyError, TypeError):
                message = f"{prompts_file}: every line must be a JSON object with a 'prompt' field"
                raise UserInputError(message) from None
        else:
            blocks = "\n".join(text.splitlines()).split(f"\n{PROMPT_SEPARATOR}\n")
            found += [b.strip("\n") + "\n" for b in blocks if b.strip()]
    if not found and default is None:
        raise UserInputError("no prompt given: use --prompt TEXT (repeatable) or --prompts_file FILE")
    return found or list(default or [])
