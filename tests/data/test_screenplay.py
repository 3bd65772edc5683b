from hypothesis import given
from hypothesis import strategies as st

from lit_gpt2.data.screenplay import normalise_screenplay
from lit_gpt2.data.sources import embedded_corpus_files

DIALOGUE_INDENT = 25  # where the embedded corpus (standard layout) puts dialogue
CUE_INDENT = 37


def _lines_at(text: str, indent: int) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith(" " * indent) and line[indent] != " "]


def _is_subsequence(needles: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needles)


def test_every_dialogue_line_and_cue_of_the_corpus_survives_in_order():
    for path in embedded_corpus_files():
        raw = path.read_text()
        lines = normalise_screenplay(raw).splitlines()
        dialogue, cues = _lines_at(raw, DIALOGUE_INDENT), _lines_at(raw, CUE_INDENT)
        assert dialogue and cues, path.name
        assert _is_subsequence(dialogue, lines), path.name
        assert _is_subsequence(cues, lines), path.name


def test_layout_is_flattened_to_fountain_style():
    raw = (
        "               INT. DINER - NIGHT\n\n\n\n"
        "                                     MARGO\n"
        "                               (quietly)\n"
        "                         Kitchen   closed at ten.   \r\n"
        "\f                                                            CUT TO:\n"
    )
    assert (
        normalise_screenplay(raw) == "INT. DINER - NIGHT\n\nMARGO\n(quietly)\nKitchen closed at ten.\n\nCUT TO:\n"
    )  # the page break (form feed) leaves one blank line


lines = st.lists(st.text(alphabet=st.sampled_from(list("ab C.\t ")), max_size=20), max_size=30)


@given(lines)
def test_every_non_blank_line_keeps_its_words_in_order(raw_lines):
    raw = "\n".join(raw_lines)
    kept = [line.split() for line in raw.split("\n") if line.strip()]
    normalised = normalise_screenplay(raw)
    assert [line.split() for line in normalised.splitlines() if line] == kept
    assert "\n\n\n" not in normalised


def test_layout_check_tells_screenplays_from_prose_plays_and_chat():
    from lit_gpt2.data.screenplay import looks_like_screenplay
    from lit_gpt2.data.sources import embedded_corpus_files

    assert looks_like_screenplay(path.read_text() for path in embedded_corpus_files())
    prose = "It was a bright cold day in April, and the clocks were striking thirteen.\n\nCHAPTER II\n\n" * 40
    play = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n" * 40
    chat = "user: hi there, how are you\nbot: I am fine, THANKS.\n" * 80
    assert not any(looks_like_screenplay([text]) for text in (prose, play, chat))
