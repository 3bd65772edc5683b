import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import tiny_fit_args
from lit_gpt2.inspect.statistics import STATISTICS


def _fit_with(tmp_path, run_cli, init_args: dict) -> int:
    config = tmp_path / "attention.yaml"
    callback = {"class_path": "lit_gpt2.callbacks.AttentionHeatmapCallback", "init_args": init_args}
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [callback]}}))
    return run_cli(tiny_fit_args(tmp_path, f"--config={config}", epochs=2))


def test_fit_logs_attention_images_and_statistics_every_epoch(watched):
    """``watched``: a 2-epoch fit whose attention callback draws heads [[0, 1], [1, 0]]."""
    events = EventAccumulator(str(watched), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    steps = [0, 4, 8]
    for tag in ("attention/grid", "attention/layer0/head1", "attention/layer1/head0", "attention/rollout"):
        images = events.Images(tag)
        assert [i.step for i in images] == steps, tag
        assert images[0].encoded_image_string != images[-1].encoded_image_string, tag  # redrawn each round
    for layer in (0, 1):
        for name in STATISTICS:
            assert [s.step for s in events.Scalars(f"attn/layer{layer}/{name}")] == steps
    assert [s.step for s in events.Scalars("attn/seconds")] == steps
    for kind in ("previous_token", "duplicate_token", "induction"):
        # (8 steps barely move a tiny model's head scores: their charts may look the same each round)
        assert [i.step for i in events.Images(f"heads/{kind}")] == steps, kind
        assert all(0 <= s.value <= 1 for s in events.Scalars(f"heads/max_{kind}"))
    architecture = events.Tensors("model/architecture/text_summary")
    assert b"| **total** |" in architecture[0].tensor_proto.string_val[0]


@pytest.mark.parametrize(
    ("init_args", "message"),
    [
        ({"heads": [[5, 0]]}, "head (5, 0) does not exist"),
        ({"probe_text": " "}, "non-empty probe_text"),
        ({"head_score_length": 1}, "head_score_length=1 must be 0 (off) or at least 2"),
    ],
)
def test_bad_arguments_give_one_line(run_cli, tmp_path, capsys, init_args, message):
    assert _fit_with(tmp_path, run_cli, init_args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
