import pytest
from hypothesis import given
from hypothesis import strategies as st

from lit_gpt2.data.split import split_by_script
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
