import pytest
from hypothesis import given
from hypothesis import strategies as st

from lit_gpt2.data.split import split_by_script
from lit_gpt2.errors import UserInputError


@given(st.integers(2, 500), st.floats(0.01, 0.99), st.integers(0, 2**32 - 1))
def test_split_is_disjoint_complete_and_deterministic(n, fraction, seed):
    train, val = split_by_script(n, fraction, seed)
    assert set(train).isdisjoint(val)
    assert sorted(train + val) == list(range(n))
    assert train and val
    assert (train, val) == split_by_script(n, fraction, seed)


def test_different_seeds_give_different_splits():
    assert split_by_script(100, 0.2, 0)[1] != split_by_script(100, 0.2, 1)[1]


@pytest.mark.parametrize(
    ("n", "fraction", "message"), [(1, 0.1, "at least 2"), (10, 0.0, "between 0 and 1"), (10, 1.0, "between 0 and 1")]
)
def test_impossible_splits_say_what_to_change(n, fraction, message):
    with pytest.raises(UserInputError, match=message):
        split_by_script(n, fraction, seed=0)
