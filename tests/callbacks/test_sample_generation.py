import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import CUSTOM_STRATEGY, SAMPLE_STRATEGIES, tiny_fit_args
from lit_gpt2.callbacks.sample_generation import SampleGenerationCallback
from lit_gpt2.decoding.generate import Samples
from lit_gpt2.decoding.strategies import PRESETS
from lit_gpt2.errors import UserInputError

# The strategies the shared ``watched`` fit samples with: three presets and one of the user's own.
STRATEGIES = SAMPLE_STRATEGIES
CUSTOM = CUSTOM_STRATEGY


def _samples_config(tmp_path, *others: dict, **init_args) -> str:
    """``--config=...`` of a YAML file that adds a SampleGenerationCallback with these arguments (and the
    ``others`` callbacks after it)."""
    callback = {"class_path": "lit_gpt2.callbacks.SampleGenerationCallback", "init_args": init_args}
    config = tmp_path / "samples.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": [callback, *others]}}))
    return f"--config={config}"


def test_fit_logs_samples_metrics_and_chart_for_every_strategy_and_epoch(watched):
    """``watched``: a 2-epoch fit whose samples are 6 tokens long, under ``STRATEGIES`` and ``CUSTOM``."""
    warned = (watched.parents[2] / "transformers-warnings.log").read_text()
    assert "attention mask and the pad token id were not set" not in warned

    run = watched
    events = EventAccumulator(str(run), size_guidance={"tensors": 0, "images": 0})
    events.Reload()
    steps = [0, 4, 8]  # before training, then after each of the 2 epochs of 4 batches
    for name in [*STRATEGIES, CUSTOM["name"]]:
        texts = events.Tensors(f"samples/{name}/text_summary")
        assert [t.step for t in texts] == steps
        assert b"| prompt | continuation |" in texts[0].tensor_proto.string_val[0]
        for metric in ("distinct_2", "rep_2", "self_bleu4", "repetition_rate", "perplexity", "tokens_per_second"):
            assert [s.step for s in events.Scalars(f"gen/{name}/{metric}")] == steps
    assert [s.step for s in events.Scalars("gen/seconds")] == steps
    assert [i.step for i in events.Images("probs/next_token")] == steps


def test_markdown_table_escapes_pipes_and_keeps_line_breaks():
    samples = Samples(PRESETS["greedy"], ["A|B\n"], [[1]], [[2]], ["line one\nline two"], 0.1)
    assert samples.markdown().splitlines()[-1] == "| A\\|B<br> | line one<br>line two |"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prompts": []}, "at least one prompt"),
        ({"max_new_tokens": 0}, "at least 1"),
        ({"strategies": ["x"]}, "unknown"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        SampleGenerationCallback(**kwargs)


def test_max_new_tokens_beyond_the_context_is_refused_through_the_cli(run_cli, tmp_path, capsys):
    config = _samples_config(tmp_path, max_new_tokens=500)
    assert run_cli(tiny_fit_args(tmp_path, config)) == 2
    assert "max_new_tokens=500 does not fit the model's 128-token context" in capsys.readouterr().err


def test_an_invalid_custom_strategy_in_yaml_is_one_line(run_cli, tmp_path, capsys):
    config = _samples_config(tmp_path, strategies=[{**CUSTOM, "temperature": 0}])
    assert run_cli(tiny_fit_args(tmp_path, config)) == 2
    err = capsys.readouterr().err
    assert "decoding strategy 'hot-nucleus': temperature=0 must be > 0" in err and "Traceback" not in err


def test_a_classifier_logs_label_shares_and_mean_score_per_strategy(run_cli, tmp_path, tiny_classifier):
    config = _samples_config(
        tmp_path,
        strategies=["greedy", "top-k-40"],
        max_new_tokens=6,
        classifier=str(tiny_classifier),
        classifier_device="cpu",
    )
    # GPT-2's 50,257 tokens: an untrained model with a 512-token one often ends at once, with nothing to classify.
    assert run_cli(tiny_fit_args(tmp_path, config, epochs=1, gpt2_vocab=True)) == 0

    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    events = EventAccumulator(str(run), size_guidance={"scalars": 0})
    events.Reload()
    for name in ("greedy", "top-k-40"):
        shares = [events.Scalars(f"gen/{name}/classifier/share/{label}") for label in ("comedy", "noir")]
        assert [s.step for s in shares[0]] == [0, 4]  # before training, then after the epoch of 4 batches
        assert all(a.value + b.value == pytest.approx(1.0) for a, b in zip(*shares))
        assert all(0.5 <= s.value <= 1.0 for s in events.Scalars(f"gen/{name}/classifier/mean_score"))


def test_a_missing_classifier_is_refused_through_the_cli(run_cli, tmp_path, capsys):
    config = _samples_config(tmp_path, classifier=str(tmp_path / "no-such-classifier"))
    assert run_cli(tiny_fit_args(tmp_path, config)) == 2
    err = capsys.readouterr().err
    assert "no-such-classifier' does not exist" in err and "Traceback" not in err


def test_genres_log_samples_and_classifier_scores_per_strategy_and_genre(coded_run):
    """``coded_run``: a 1-epoch coded fit whose greedy samples, uncoded and under the codes of noir and
    comedy, are scored by ``tiny_classifier``."""
    run = coded_run
    events = EventAccumulator(str(run), size_guidance={"tensors": 0, "scalars": 0, "images": 0})
    events.Reload()
    assert [image.step for image in events.Images("classifier/labels")] == [0, 4]
    for name, code in (("greedy", None), ("greedy/noir", "<|genre:noir|>"), ("greedy/comedy", "<|genre:comedy|>")):
        texts = events.Tensors(f"samples/{name}/text_summary")
        assert [t.step for t in texts] == [0, 4]
        table = texts[0].tensor_proto.string_val[0].decode()
        assert (code is None and "genre:" not in table) or code.replace("|", "\\|") + "INT. DINER" in table
        assert [s.step for s in events.Scalars(f"gen/{name}/distinct_2")] == [0, 4]
        assert len(events.Scalars(f"gen/{name}/classifier/mean_score")) == 2


def test_an_unknown_genre_is_refused_before_training(run_cli, tmp_path, capsys):
    config = _samples_config(tmp_path, genres=["opera"])
    assert run_cli(tiny_fit_args(tmp_path, config, "--data.control=genre")) == 2
    err = capsys.readouterr().err
    assert "unknown genre 'opera': this model knows " in err and ", noir, " in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.ckpt"))
