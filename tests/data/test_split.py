import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lit_gpt2.data.split import split_by_position, split_by_script, too_few_to_split_by_script
from lit_gpt2.errors import UserInputError


@given(st.integers(3, 500), st.floats(0.01, 0.49), st.floats(0.0, 0.49), st.integers(0, 2**32 - 1))
def test_split_is_disjoint_complete_and_deterministic(n, val_fraction, test_fraction, seed):
    train, val, test = split_by_script(n, val_fraction, seed, test_fraction)
    assert set(train).isdisjoint(val) and set(train).isdisjoint(test) and set(val).isdisjoint(test)
    assert sorted(train + val + test) == list(range(n))
    assert train and val and (bool(test) == (test_fraction > 0))
    assert (train, val, test) == split_by_script(n, val_fraction, seed, test_fraction)


def test_a_test_split_leaves_the_validation_scripts_unchanged():
    without = split_by_script(170, 0.1, 42)
    with_test = split_by_script(170, 0.1, 42, test_fraction=0.1)
    assert with_test[1] == without[1] and len(with_test[2]) == 17
    assert set(with_test[0]) | set(with_test[2]) == set(without[0])


def test_different_seeds_give_different_splits():
    assert split_by_script(100, 0.2, 0)[1] != split_by_script(100, 0.2, 1)[1]


@pytest.mark.parametrize(
    ("n", "fraction", "test_fraction", "message"),
    [
        (1, 0.1, 0.0, "at least 2"),
        (2, 0.1, 0.1, "at least 3: add scripts .* or set data.test_fraction=0"),
        (10, 0.0, 0.0, "between 0 and 1"),
        (10, 1.0, 0.0, "between 0 and 1"),
        (10, 0.5, 0.5, "leave scripts for training"),
    ],
)
def test_impossible_splits_say_what_to_change(n, fraction, test_fraction, message):
    with pytest.raises(UserInputError, match=message):
        split_by_script(n, fraction, seed=0, test_fraction=test_fraction)


@given(st.lists(st.text("ab\n", max_size=60), min_size=1, max_size=3), st.floats(0.01, 0.49), st.floats(0.0, 0.49))
def test_position_split_keeps_every_character_in_order_and_cuts_at_line_starts(texts, val_fraction, test_fraction):
    pieces = split_by_position(texts, val_fraction, test_fraction)
    assert ["".join(p.text for p in pieces if p.document == d) for d in range(len(texts))] == texts
    order = [{0: 0, 2: 1, 1: 2}[p.split] for p in pieces]  # train, then test, then validation
    assert order == sorted(order)
    joined, offset = "".join(texts), 0
    for before, after in itertools.pairwise(pieces):
        offset += len(before.text)
        if before.split != after.split and "\n" in joined[offset:]:
            assert joined[offset - 1] == "\n"  # a new split starts a line


def test_position_split_holds_out_the_end_for_validation_and_the_part_before_for_test():
    text = "".join(f"{i}\n" for i in range(10, 60))  # 50 lines of 3 characters
    pieces = split_by_position([text], 0.1, 0.2)
    by_split = {p.split: p.text for p in pieces}
    assert by_split[1] == "".join(f"{i}\n" for i in range(55, 60))
    assert by_split[2] == "".join(f"{i}\n" for i in range(45, 55))
    assert by_split[0] == "".join(f"{i}\n" for i in range(10, 45))


def test_too_few_documents_is_what_a_split_by_script_cannot_split():
    assert too_few_to_split_by_script(1, 0.0) and not too_few_to_split_by_script(2, 0.0)
    assert too_few_to_split_by_script(2, 0.1) and not too_few_to_split_by_script(3, 0.1)
