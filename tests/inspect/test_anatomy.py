import pytest

from lit_gpt2.inspect.anatomy import meta_gpt2, module_tree, parameter_breakdown
from lit_gpt2.modeling.presets import SIZE_PRESETS

TOTALS = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
    "distilgpt2": 81_912_576,
}


@pytest.mark.parametrize("preset", SIZE_PRESETS)
def test_breakdown_adds_up_to_the_exact_totals(preset):
    model = meta_gpt2(preset)
    rows = dict(parameter_breakdown(model))
    assert sum(rows.values()) == TOTALS[preset]
    assert rows["LM head (tied to wte: counted once, above)"] == 0
    assert next(p for p in model.parameters()).is_meta


def test_tree_shows_the_block_stack_once_and_the_tied_head_as_shared():
    tree = "\n".join(module_tree(meta_gpt2("gpt2")))
    assert "h: 12 x GPT2Block, each:" in tree
    assert tree.count("GPT2Block (") == 1
    assert "lm_head: Linear (weights shared with an earlier module)" in tree
