"""The watching callbacks' schedule and where their scalars go, through real ``lit-gpt2 fit`` runs."""

import csv

import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from conftest import REPO, tiny_fit_args
from lit_gpt2.callbacks.sample_generation import SampleGenerationCallback
from lit_gpt2.errors import UserInputError

WATCHING = (
    "lit_gpt2.callbacks.SampleGenerationCallback",
    "lit_gpt2.callbacks.AttentionHeatmapCallback",
    "lit_gpt2.callbacks.LogitLensCallback",
)


def _callbacks_config(tmp_path, *callbacks: dict) -> str:
    config = tmp_path / "callbacks.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": list(callbacks)}}))
    return f"--config={config}"


def _events(tmp_path) -> EventAccumulator:
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    events = EventAccumulator(str(run), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    return events


def test_the_finetune_config_watches_before_training_and_at_every_validation(run_cli, tmp_path):
    """The real fine-tune config, offline and tiny: two validations in one epoch give three rounds."""
    finetune = yaml.safe_load((REPO / "configs" / "gpt2-finetune.yaml").read_text())
    # The rounds are what is checked, not what each draws: 4 new tokens of 128 after one prompt; the
    # attention grid and rollout without the full-size heads and head-score charts; the lens without the
    # surprisal passage.
    smaller = {WATCHING[0]: {"max_new_tokens": 4, "prompts": ["INT. DINER - NIGHT\n\n"]}}
    smaller[WATCHING[1]] = {"heads": [], "head_score_length": 0}
    smaller[WATCHING[2]] = {"passage_tokens": 0}
    for callback in finetune["trainer"]["callbacks"]:
        callback.setdefault("init_args", {}).update(smaller.pop(callback["class_path"]))
    assert not smaller  # the config still turns on all three
    config = tmp_path / "gpt2-finetune.yaml"
    config.write_text(yaml.safe_dump(finetune))
    args = tiny_fit_args(tmp_path, epochs=1)
    args[1:1] = [f"--config={config}"]  # the config first, overrides after
    args += [
        "--model.pretrained=null",
        "--data.source=null",
        "--data.num_workers=0",
        "--data.batch_size=4",
        "--trainer.precision=32-true",
        "--trainer.accumulate_grad_batches=1",
        "--trainer.val_check_interval=0.5",
    ]
    assert run_cli(args) == 0
    events = _events(tmp_path)
    rounds = [0, 2, 4]  # before training, then after batches 2 and 4 (of 4)
    for strategy in ("greedy", "beam-5", "temperature-1.0", "top-k-40", "top-p-0.9"):
        assert [t.step for t in events.Tensors(f"samples/{strategy}/text_summary")] == rounds
        assert [s.step for s in events.Scalars(f"gen/{strategy}/structure")] == rounds
    assert [i.step for i in events.Images("attention/grid")] == rounds
    assert [s.step for s in events.Scalars("attn/seconds")] == rounds
    assert [s.step for s in events.Scalars("val/bpb")] == [0, 1, 3]  # the whole-set sanity check, then each validation


@pytest.mark.parametrize(
    "configs",
    [
        ["quickstart.yaml"],
        ["gpt2-finetune.yaml"],
        ["gpt2-finetune.yaml", "gpt2-medium.yaml"],
        ["gpt2-finetune.yaml", "gpt2-large.yaml"],
    ],
    ids=lambda c: "+".join(c),
)
def test_every_training_config_turns_on_every_watching_callback(configs, run_cli, capsys):
    args = [f"--config={REPO / 'configs' / name}" for name in configs]
    assert run_cli(["fit", *args, "--print_config"]) == 0
    callbacks = yaml.safe_load(capsys.readouterr().out)["trainer"]["callbacks"]
    assert set(WATCHING) <= {c["class_path"] for c in callbacks}


def test_every_n_steps_counts_optimizer_steps_under_gradient_accumulation(run_cli, tmp_path):
    sample = {
        "class_path": WATCHING[0],
        "init_args": {"max_new_tokens": 4, "every_n_steps": 1, "strategies": ["greedy"]},
    }
    extra = [_callbacks_config(tmp_path, sample), "--trainer.accumulate_grad_batches=2"]
    assert run_cli(tiny_fit_args(tmp_path, *extra, epochs=2)) == 0
    # 4 batches an epoch, 2 per optimizer step: steps 1 and 2, then 3 and 4; each logged once.
    assert [s.step for s in _events(tmp_path).Scalars("gen/greedy/distinct_2")] == [0, 1, 2, 3, 4]


def test_every_n_epochs_still_available(run_cli, tmp_path):
    # Its schedule is checked: no full-size heads or head-score charts to draw.
    attention = {"class_path": WATCHING[1], "init_args": {"every_n_epochs": 2, "heads": [], "head_score_length": 0}}
    assert run_cli(tiny_fit_args(tmp_path, _callbacks_config(tmp_path, attention), epochs=2)) == 0
    assert [s.step for s in _events(tmp_path).Scalars("attn/seconds")] == [0, 8]


def test_scalars_reach_a_csv_logger_without_tensorboard(run_cli, tmp_path):
    sample = {"class_path": WATCHING[0], "init_args": {"max_new_tokens": 4, "strategies": ["greedy"]}}
    csv_logger = {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(tmp_path / "csv")}}
    args = tiny_fit_args(tmp_path, _callbacks_config(tmp_path, sample, {"class_path": WATCHING[1]}), epochs=1)
    with pytest.warns(UserWarning, match="only the gen/ scalars are logged"):
        assert run_cli([*args, f"--trainer.logger={yaml.safe_dump(csv_logger, default_flow_style=True).strip()}"]) == 0
    (metrics_file,) = (tmp_path / "csv").rglob("metrics.csv")
    rows = list(csv.DictReader(metrics_file.open()))
    for column in ("gen/greedy/rep_2", "gen/greedy/structure", "gen/seconds", "attn/layer0/entropy", "attn/seconds"):
        assert [int(r["step"]) for r in rows if r.get(column)] == [0, 4], column


def test_early_stopping_can_monitor_a_generation_metric(run_cli, tmp_path):
    sample = {"class_path": WATCHING[0], "init_args": {"max_new_tokens": 4, "strategies": ["greedy"]}}
    # distinct-1 of greedy samples can never exceed 1: "improve by at least 2" fails at once.
    stop = {
        "class_path": "lightning.pytorch.callbacks.EarlyStopping",
        "init_args": {"monitor": "gen/greedy/distinct_1", "mode": "max", "min_delta": 2.0, "patience": 1},
    }
    assert run_cli(tiny_fit_args(tmp_path, _callbacks_config(tmp_path, sample, stop), epochs=5)) == 0
    steps = [s.step for s in _events(tmp_path).Scalars("val/ppl")]
    assert len(steps) == 2  # stopped after the second epoch of five


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"every_n_steps": 0}, "at least 1"), ({"every_n_epochs": 1, "every_n_steps": 1}, "at most one")],
)
def test_impossible_schedules_are_refused(kwargs, message):
    with pytest.raises(UserInputError, match=message):
        SampleGenerationCallback(**kwargs)


def test_a_kept_chart_is_reused_under_its_tag_until_what_it_was_built_for_changes():
    callback, built = SampleGenerationCallback(), []

    def build() -> object:
        built.append(object())
        return built[-1]

    first = callback.kept_chart("lens/top_tokens", ("a", "b"), build)
    assert callback.kept_chart("lens/top_tokens", ("a", "b"), build) is first and len(built) == 1
    assert callback.kept_chart("heads/induction", ("a", "b"), build) is built[1]  # each tag its own
    assert callback.kept_chart("lens/top_tokens", ("a", "c"), build) is built[2]  # another probe: a new one
