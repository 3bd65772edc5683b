"""Structure score: how much of a generated text is well-formed screenplay, in a well-formed order.

A pure function on text, so that it reads model output, corpus files and hand-written examples alike.
The definition, with worked examples that the tests use, is in ``docs/structure-score.md``.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

HEADING = "heading"
ACTION = "action"
CUE = "cue"
PARENTHETICAL = "parenthetical"
DIALOGUE = "dialogue"
TRANSITION = "transition"

_HEADING_START = re.compile(r"^(INT\./EXT\.|INT/EXT\.?|I/E\.?|INT\.|EXT\.)\s*\S", re.IGNORECASE)
_TRANSITION = re.compile(r"^[A-Z][A-Z ]*(TO:|IN:|OUT\.|BLACK\.)$")
_CUE = re.compile(r"^[A-Z0-9][A-Z0-9 .'&-]*( ?\([^()]*\))?$")
_ACTION_START = re.compile(r"^[A-Z0-9\"'\u2018\u201c]")
# A word: letters or digits in parts joined by an apostrophe, hyphen, period, colon or slash ("o'clock",
# "2:47", "B.L."), with punctuation around; or a stand-alone dash, ellipsis or ampersand ("--", "...").
_WORD = re.compile(
    r"^(?:[-\u2013\u2014.\u2026&]+"
    r"|[(\"'\u2018\u201c\u00bf\u00a1\u2026\u2013\u2014-]*(?:\.\.\.)?[^\W_]+(?:['\u2019.:/-][^\W_]+)*"
    r"[.,!?;:)\"'\u2019\u201d\u2026\u2013\u2014-]*)$"
)
# One case pattern per run of letters: word, Word, WORD, or a short capitalised prefix (McKay, PhD, DeShawn).
_CAMEL = re.compile(r"^[A-Z][a-z]{0,3}[A-Z][a-z]*$")
_SENTENCE_END = tuple(".,!?;:)\"'\u2019\u201d\u2026-")


@dataclass(frozen=True)
class ScreenplayLine:
    """One non-blank line: its element, whether it is well-formed in its place, and whether the model wrote it."""

    text: str
    element: str
    well_formed: bool
    generated: bool


def _is_word(word: str) -> bool:
    """A word in one case pattern per part (Word, word, WORD), as written text has: ``theESS`` or
    ``makeHowIG`` is what an untrained model strings together, not a word."""
    if not _WORD.match(word):
        return False
    parts = re.findall(r"[^\W\d_]+", word)
    return all(p.islower() or p.isupper() or p.istitle() or _CAMEL.match(p) for p in parts)


def _is_text(line: str) -> bool:
    """Words only, and either two or more of them or one that ends with punctuation (``Twice.``)."""
    words = line.split()
    return all(map(_is_word, words)) and (len(words) >= 2 or line.endswith(_SENTENCE_END))


def _is_parenthetical_text(line: str) -> bool:
    """Words only, closed (if at all) at the very end: ``(30s, tall) sits down.`` is an action
    line's character introduction, not a parenthetical."""
    if ")" in line[:-1] or "(" in line[1:]:
        return False
    inner = line.strip("()").split()
    return bool(inner) and all(map(_is_word, inner)) and any(sum(c.isalpha() for c in w) >= 2 for w in inner)


def _is_heading(line: str) -> bool:
    return bool(_HEADING_START.match(line))


def _is_transition(line: str) -> bool:
    return bool(_TRANSITION.match(line))


def _is_cue(line: str) -> bool:
    name = line.split("(")[0].strip()
    return (
        len(line) <= 40
        and bool(_CUE.match(line))
        and sum(c.isalpha() for c in name) >= 2
        and not name.endswith(".")  # "BEEP." and "KNOCK. KNOCK." are action or dialogue, not names
        and len(name.split()) <= 4
        and not _is_heading(line)
        and not _is_transition(line)
    )


def _new_element(line: str) -> str | None:
    """The element a line would open (heading, transition or cue), or None for any other line."""
    if _is_heading(line):
        return HEADING
    if _is_transition(line):
        return TRANSITION
    return CUE if _is_cue(line) else None


def parse_screenplay(text: str, prompt: str = "") -> list[ScreenplayLine]:
    """Label every non-blank line of ``prompt + text`` (indentation ignored) with its element and verdict.

    Lines of the prompt are parsed as context (a prompt ending in a cue makes the next line dialogue)
    and marked ``generated=False``; a line that the prompt starts and the text finishes counts as generated.
    """
    full = prompt + text
    first_generated = prompt.count("\n")  # index of the line where the generated text starts
    raw_lines = [line.strip() for line in full.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if not text:
        first_generated = len(raw_lines)

    # Pass 1: each line's element, from the line itself and what precedes it (blank line or not).
    elements: list[tuple[int, str, bool]] = []  # (line index, element, well-formed on its own)
    previous: str | None = None  # element of the previous line; None right after a blank line
    block_start: str | None = None  # element of the current block's first line
    in_parenthetical = False
    for index, line in enumerate(raw_lines):
        if not line:
            previous, in_parenthetical = None, False
            continue
        if previous is None:
            block_start = None
        opens = _new_element(line)
        if in_parenthetical:  # a parenthetical wrapped over several lines
            element, ok = PARENTHETICAL, elements[-1][2] and _is_parenthetical_text(line)
            in_parenthetical = ")" not in line
        elif previous in (CUE, PARENTHETICAL, DIALOGUE):
            if line.startswith("("):
                element, ok = PARENTHETICAL, _is_parenthetical_text(line)
                in_parenthetical = ")" not in line
            elif opens in (HEADING, TRANSITION) or (opens == CUE and previous == DIALOGUE):
                # A new element needs a blank line before it: here it runs into the dialogue block (a
                # capitalised line right under a cue or parenthetical is shouted dialogue).
                element, ok = opens, False
            else:
                # In a block that a cue starts, and not right under a malformed parenthetical.
                under_bad_parenthetical = previous == PARENTHETICAL and not elements[-1][2]
                element, ok = DIALOGUE, block_start == CUE and _is_text(line) and not under_bad_parenthetical
        elif previous is None:  # the first line of a block
            if opens:
                element, ok = opens, opens != HEADING or not any(c.islower() for c in line)
            elif line.startswith("("):
                element, ok = PARENTHETICAL, False  # a parenthetical belongs under a cue
                in_parenthetical = ")" not in line
            else:
                element, ok = ACTION, bool(_ACTION_START.match(line)) and _is_text(line)
        else:  # inside a block that began with a heading, transition or action paragraph
            if opens:
                element, ok = opens, False  # needs a blank line before it
            else:
                element = ACTION
                # Action paragraphs wrap over lines; headings and transitions stand alone.
                ok = previous == ACTION and elements[-1][2] and _is_text(line)
        elements.append((index, element, ok))
        previous = element
        block_start = block_start or element

    # Pass 2: what must follow. A cue needs its parenthetical or dialogue, a parenthetical its dialogue,
    # well-formed and directly below; an element on the text's last line is not judged by what follows
    # (it may be cut).
    verdicts = []
    for position, (index, element, ok) in enumerate(elements):
        if ok and element in (CUE, PARENTHETICAL) and position + 1 < len(elements):
            next_index, next_element, next_ok = elements[position + 1]
            if element == PARENTHETICAL and ")" not in raw_lines[index]:
                allowed: tuple[str, ...] = (PARENTHETICAL,)  # wrapped: its last line is judged
            else:
                allowed = (PARENTHETICAL, DIALOGUE) if element == CUE else (DIALOGUE,)
            ok = next_index == index + 1 and next_element in allowed and next_ok
        verdicts.append(ok)

    # Prose alone is not a screenplay: action counts only beside a well-formed heading, cue or transition.
    is_screenplay = any(ok and element in (HEADING, CUE, TRANSITION) for (_, element, _), ok in zip(elements, verdicts))
    return [
        ScreenplayLine(
            text=raw_lines[index],
            element=element,
            well_formed=ok and (element != ACTION or is_screenplay),
            generated=index >= first_generated,
        )
        for (index, element, _), ok in zip(elements, verdicts)
    ]


def structure_score(text: str, prompt: str = "") -> float:
    """Fraction of the generated non-blank lines that are well-formed screenplay elements in a
    well-formed order; 0.0 when nothing but whitespace was generated."""
    generated = [line for line in parse_screenplay(text, prompt) if line.generated]
    return sum(line.well_formed for line in generated) / len(generated) if generated else 0.0


def mean_structure_score(prompts: Sequence[str], texts: Sequence[str]) -> float:
    """Mean over samples of each continuation's structure score (a blank continuation scores 0)."""
    scores = [structure_score(text, prompt) for prompt, text in zip(prompts, texts)]
    return sum(scores) / len(scores) if scores else 0.0
