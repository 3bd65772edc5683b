import pytest
import torch

from lit_gpt2.errors import UserInputError
from lit_gpt2.inspect.anatomy import meta_gpt2
from lit_gpt2.inspect.architecture_report import COMPARABLE_FAMILIES, comparison_rows, describe
from lit_gpt2.modeling.build import parameter_count


def test_comparison_covers_the_four_families():
    assert COMPARABLE_FAMILIES == ("bert", "bart", "t5", "xlnet")
    rows = comparison_rows(meta_gpt2("gpt2"), list(COMPARABLE_FAMILIES))
    families = [(r["model"].split(" (")[0], r["family"]) for r in rows]
    assert families == [
        ("GPT-2", "decoder-only"),
        ("BERT base", "encoder-only"),
        ("BART large", "encoder-decoder"),
        ("T5 small", "encoder-decoder"),
        ("XLNet base", "single stack, autoregressive (Transformer-XL)"),
    ]
    assert "cross" in rows[2]["attention"] and rows[3]["positions"] == "relative position bias"
    with pytest.raises(UserInputError, match="unknown: gpt3"):
        comparison_rows(meta_gpt2("gpt2"), ["gpt3"])


def test_xlnet_is_xlnet_base_cased_counted_on_the_meta_device():
    from transformers import XLNetConfig, XLNetLMHeadModel

    config = XLNetConfig(n_layer=12, d_model=768, n_head=12, d_inner=3072, vocab_size=32000)
    with torch.device("meta"):
        model = XLNetLMHeadModel(config)
    # Per layer: q, k, v, o and the relative-position projection r (5 x 768^2), three 12 x 64 relative
    # biases, the segment embedding, two LayerNorms and the 768-3072-768 MLP. Then the word embedding, the
    # mask embedding, and the LM head's own 32,000 biases (its weight is the word embedding, counted once).
    # 116.75M: the ~117M cited for xlnet-base-cased.
    per_layer = 5 * 768 * 768 + 3 * 768 + 2 * 768 + 2 * 2 * 768 + (768 * 3072 + 3072) + (3072 * 768 + 768)
    assert parameter_count(model) == 12 * per_layer + 32000 * 768 + 768 + 32000 == 116_750_336
    row = comparison_rows(meta_gpt2("gpt2"), ["xlnet"])[1]
    assert row["model"] == "XLNet base (XLNetLMHeadModel)"
    assert (row["layers"], row["d_model"], row["parameters"]) == ("12", "768", "116,750,336")


def test_describe_reports_markdown_and_data():
    markdown, data = describe(meta_gpt2("distilgpt2"), "distilgpt2", ["t5"])
    assert "| **total** | **81,912,576** | |" in markdown and "T5 small" in markdown
    assert data["total"] == 81_912_576 and data["cost"]["layers"] == 6


def test_the_xlnet_row_names_what_sets_it_apart():
    markdown, data = describe(meta_gpt2("gpt2"), "gpt2", ["bert", "xlnet"])
    xlnet = data["comparison"][2]
    assert xlnet["model"].startswith("XLNet base")
    assert "permutation language modelling" in xlnet["objective"] and "no [MASK]" in xlnet["objective"]
    assert "two-stream" in xlnet["attention"] and "query" in xlnet["attention"]
    assert "relative" in xlnet["positions"] and "segment recurrence (memory)" in xlnet["positions"]
    assert "| " + " | ".join(xlnet.values()) + " |" in markdown
    assert "**XLNet (single stack, permutation language modelling)**" in markdown
