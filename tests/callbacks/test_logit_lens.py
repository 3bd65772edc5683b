import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import tiny_fit_args


def _fit_with(tmp_path, run_cli, init_args: dict) -> int:
    config = tmp_path / "lens.yaml"
    callback = {"class_path": "lit_gpt2.callbacks.LogitLensCallback", "init_args": init_args}
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [callback]}}))
    return run_cli(tiny_fit_args(tmp_path, f"--config={config}", epochs=2))


def test_fit_logs_the_lens_and_the_passage_surprisal_every_round(watched):
    """``watched``: a 2-epoch fit whose lens reads a 16-token passage. It has no sanity check: the passage
    is read from the data module before validation has run."""
    events = EventAccumulator(str(watched), size_guidance={"images": 0, "tensors": 0, "scalars": 0})
    events.Reload()
    steps = [0, 4, 8]
    for tag in ("lens/top_tokens", "surprisal/passage"):
        images = events.Images(tag)
        assert [i.step for i in images] == steps, tag
        assert images[0].encoded_image_string != images[-1].encoded_image_string, tag  # redrawn each round
    for name in ("embed", "layer0", "layer1"):  # the tiny model has 2 layers
        assert [s.step for s in events.Scalars(f"lens/{name}/loss")] == steps
    bits = events.Scalars("surprisal/mean_bits")
    assert [s.step for s in bits] == steps and bits[-1].value < bits[0].value  # training lowers surprise
    table = events.Tensors("surprisal/passage/text_summary")[0].tensor_proto.string_val[0].decode()
    assert table.startswith("| token | surprisal (bits) |") and table.count("\n") == 1 + 15  # 16 tokens, 15 read


@pytest.mark.parametrize(
    ("init_args", "message"),
    [({"probe_text": " "}, "non-empty probe_text"), ({"passage_tokens": 1}, "passage_tokens=1 0 (off)")],
)
def test_bad_arguments_give_one_line(run_cli, tmp_path, capsys, init_args, message):
    assert _fit_with(tmp_path, run_cli, init_args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
