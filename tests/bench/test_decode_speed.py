"""bench.decode_speed times a sample round both ways and checks both wrote the same tokens."""

from bench.decode_speed import decode_speed


def test_a_round_both_ways_writes_the_same_tokens_and_is_timed():
    result = decode_speed(repeats=2, tokens=4)
    assert result["same_tokens"] is True
    assert result["transformers"] > 0 and result["lean"] > 0
    assert result["round"].startswith("5 strategies (greedy, beam-5,")
