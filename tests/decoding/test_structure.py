"""The structure score on the worked examples of docs/structure-score.md."""

import pytest

from lit_gpt2.decoding.structure import (
    ACTION,
    CUE,
    DIALOGUE,
    HEADING,
    PARENTHETICAL,
    TRANSITION,
    mean_structure_score,
    parse_screenplay,
    structure_score,
)

SCENE = (
    "INT. BUS DEPOT - NIGHT\n\nRain on the glass. OTTO waits.\n\nOTTO\n(to himself)\nLast bus.\n\n"
    "MAY\nIt left.\n\nCUT TO:\n"
)
SHUFFLED = (
    "OTTO\nIt left.\n\n(to himself)\nLast bus.\n\nINT. BUS DEPOT - NIGHT\nCUT TO:\n\nMAY\n\n"
    "Rain on the glass. OTTO waits.\n"
)


def test_a_well_formed_scene_scores_one_with_every_element_recognised():
    lines = parse_screenplay(SCENE)
    assert [line.element for line in lines] == [
        HEADING, ACTION, CUE, PARENTHETICAL, DIALOGUE, CUE, DIALOGUE, TRANSITION
    ]  # fmt: skip
    assert structure_score(SCENE) == 1.0


def test_indentation_does_not_change_the_score():
    indented = "\n".join((" " * 25 + line) if line else "" for line in SCENE.split("\n"))
    assert structure_score(indented) == 1.0


def test_shuffled_elements_score_as_the_hand_count_gives():
    verdicts = [line.well_formed for line in parse_screenplay(SHUFFLED)]
    assert verdicts == [True, True, False, False, True, False, False, True]
    assert structure_score(SHUFFLED) == 0.5


@pytest.mark.parametrize("text", ["", "\n\n   \n\n", "\t\n"])
def test_whitespace_only_scores_zero(text):
    assert structure_score(text, "INT. DINER - NIGHT\n\n") == 0.0


def test_prose_without_screenplay_elements_scores_zero():
    prose = "It was a dark night. The rain fell.\nShe waited by the door.\n"
    assert [line.element for line in parse_screenplay(prose)] == [ACTION, ACTION]
    assert structure_score(prose) == 0.0


def test_strings_of_sub_word_pieces_are_not_text():
    text = "VIS makeHowIGepedhis?\nI\nThe"
    assert [line.well_formed for line in parse_screenplay(text, "INT. DINER - NIGHT\n\n")][1:] == [False] * 3
    assert structure_score(text, "INT. DINER - NIGHT\n\n") == 0.0
    assert structure_score("(D)\ntheESS went.\n", "DETECTIVE\n") == 0.0


def test_a_heading_prompt_gives_context_but_is_not_counted():
    prompt = "INT. DINER - NIGHT\n\n"
    text = "Margo wipes the counter.\n\nMARGO\nKitchen's closed.\n\nDEAN\n"
    lines = parse_screenplay(text, prompt)
    assert [line.generated for line in lines] == [False, True, True, True, True]
    assert structure_score(text, prompt) == 1.0


def test_a_cue_prompt_makes_the_next_line_dialogue_and_a_cue_needs_a_blank_line():
    lines = parse_screenplay("Where were you?\nMARGO\n", "DETECTIVE\n")
    assert [(line.element, line.well_formed) for line in lines[1:]] == [(DIALOGUE, True), (CUE, False)]
    assert structure_score("Where were you?\nMARGO\n", "DETECTIVE\n") == 0.5


def test_a_cue_with_nothing_below_is_malformed_unless_the_text_ends_there():
    assert structure_score("MARGO\n\nShe leaves.\n", "INT. DINER - NIGHT\n\n") == 0.5
    assert structure_score("She leaves.\n\nMARGO\n", "INT. DINER - NIGHT\n\n") == 1.0


def test_a_wrapped_parenthetical_and_shouted_dialogue_are_well_formed():
    text = "INT. HALL - DAY\n\nBEA\n(reaching for\nher notebook)\nSTOP.\nRIGHT THERE.\n"
    assert structure_score(text) == 1.0


def test_a_character_introduction_under_a_cue_is_not_a_parenthetical():
    text = "FATIMA MORN\n(30s, pushed up) sits on the stairs.\n"
    assert [line.well_formed for line in parse_screenplay(text, "INT. HALL - DAY\n\n")][1:] == [False, False]
    # An unclosed introduction does not swallow the lines below it as a wrapped parenthetical.
    text = "ANNA\n(30s, tall) sits by\nthe window.\n\nBEN\n(quietly\nnow)\nHi.\n"
    assert [line.well_formed for line in parse_screenplay(text)] == [False, False, False, True, True, True, True]


def test_mean_over_samples_counts_a_blank_continuation_as_zero():
    assert mean_structure_score(["", ""], [SCENE, "\n\n"]) == 0.5
