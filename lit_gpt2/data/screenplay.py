"""Screenplay normalisation: drop the layout's indentation, keep the structure a reader sees.

Screenplays put character cues, parentheticals and dialogue at deep, fixed indents (often 25-40
spaces), and each run of spaces costs GPT-2 tokens without telling it anything the line order and
capitalisation do not already say. Normalised text follows the plain-text Fountain convention:
every element starts at column 0, elements stay on their own lines in their order, a character cue
stays in capitals directly above its parenthetical and dialogue, and one blank line separates
elements (runs of blank lines collapse to one).
"""

import re

_NEWLINES = re.compile(r"\r\n?|\f")


def normalise_screenplay(text: str) -> str:
    """Strip indentation and trailing space, collapse inner whitespace runs and blank-line runs."""
    out: list[str] = []
    for raw in _NEWLINES.sub("\n", text).split("\n"):
        line = " ".join(raw.split())
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n" if out else ""
