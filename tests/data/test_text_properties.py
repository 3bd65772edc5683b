"""Property-based tests of the text path: any Unicode a source may hold (NUL, right-to-left marks, lone
surrogates from undecodable bytes, very long lines) goes through normalisation and the structure parser
without an error, and normalising twice changes nothing."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.decoding.structure import parse_screenplay, structure_score

# Every code point, surrogates included (str may hold them: undecodable bytes escaped), weighted towards
# the characters that shape a screenplay's layout.
layout = st.sampled_from(["\n", "\r\n", "\r", "\f", "\v", " ", "\t", "\x00", "\u200f", "\u202e", "\u2028", "\x85"])
screenplay_bits = st.sampled_from(["INT. DINER - NIGHT", "MARGO", "(quietly)", "CUT TO:", "EXT.", "Kitchen closed."])
texts = st.lists(
    st.one_of(st.characters(), st.characters(categories=["Cs"]), layout, screenplay_bits, st.text(max_size=3)),
    max_size=60,
).map("".join)
SETTINGS = settings(max_examples=150, deadline=None)
LONG_LINE = "A" * 200_000


@SETTINGS
@given(texts)
@example(LONG_LINE)
@example("\ud800 lone surrogate \udcff")
@example("\u202eMARGO\u202c\n\x00\n")
def test_normalisation_never_fails_and_is_idempotent(text):
    once = normalise_screenplay(text)
    assert normalise_screenplay(once) == once
    assert "\r" not in once and not once.startswith("\n")


@SETTINGS
@given(texts, texts)
@example(LONG_LINE, "")
@example("\x00\x00\x00", "\ud800")
def test_the_structure_parser_never_fails_on_any_text(text, prompt):
    lines = parse_screenplay(prompt + text, prompt)
    assert all(line.text for line in lines)
    assert 0.0 <= structure_score(prompt + text, prompt) <= 1.0
