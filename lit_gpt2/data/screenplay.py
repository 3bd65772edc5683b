"""Screenplay normalisation: drop the layout's indentation, keep the structure a reader sees.

Screenplays put character cues, parentheticals and dialogue at deep, fixed indents (often 25-40
spaces), and each run of spaces costs GPT-2 tokens without telling it anything the line order and
capitalisation do not already say. Normalised text follows the plain-text Fountain convention:
every element starts at column 0, elements stay on their own lines in their order, a character cue
stays in capitals directly above its parenthetical and dialogue, and one blank line separates
elements (runs of blank lines collapse to one).
"""

import itertools
import re
from collections.abc import Iterable

from lit_gpt2.decoding.structure import CUE, HEADING, TRANSITION, parse_screenplay

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


# How much of a source's text the layout check reads: a few thousand lines decide it.
_SAMPLE_CHARS = 32_768
_SAMPLE_DOCUMENTS = 16


def looks_like_screenplay(texts: Iterable[str]) -> bool:
    """Whether a source is laid out as screenplays, judged on the start of its first documents.

    Screenplay layout means scene headings (``INT. DINER - NIGHT``), transitions (``CUT TO:``) and
    character cues above their dialogue, as the structure parser reads them (docs/structure-score.md):
    at least three well-formed ones, and at least one line in 25 (a screenplay has a cue every few
    lines). Prose, poems, plays written ``HAMLET. To be...`` and chat logs have next to none, and are
    then left as the user wrote them.
    """
    marks = lines = 0
    for text in itertools.islice(texts, _SAMPLE_DOCUMENTS):
        parsed = parse_screenplay(_NEWLINES.sub("\n", text[:_SAMPLE_CHARS]))
        lines += len(parsed)
        marks += sum(line.well_formed and line.element in (HEADING, CUE, TRANSITION) for line in parsed)
    return marks >= 3 and marks * 25 >= lines
