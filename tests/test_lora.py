"""LoRA (``--model.lora``): only adapters train and are checkpointed; the export merges them into a
plain GPT-2 that ``transformers.pipeline`` loads; resume stays exact; FSDP is refused in one line."""

from types import SimpleNamespace

import pytest
import torch
import yaml
from transformers import GPT2LMHeadModel, pipeline

from conftest import TINY_CONFIG, tiny_fit_args
from lit_gpt2.checkpoints import load_module
from lit_gpt2.evaluation.flops import forward_flops_per_token
from lit_gpt2.modeling.lora import LoraSettings, merged_copy
from lit_gpt2.module import GPT2LitModule

pytest.importorskip("peft")


def _lora_module(**settings) -> GPT2LitModule:
    torch.manual_seed(0)
    return GPT2LitModule(config=TINY_CONFIG, warmup_steps=2, lora=LoraSettings(**settings))


def _randomise_adapters(module: GPT2LitModule) -> None:
    """peft starts B at zero (the adapter adds nothing); random B makes the merge test mean something."""
    with torch.no_grad():
        for name, param in module.model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)


@pytest.mark.parametrize(
    ("targets", "per_layer"),
    [
        (("c_attn",), 4 * (32 + 3 * 32)),  # qkv: 32 -> 96
        (("c_attn", "c_proj", "c_fc"), 4 * ((32 + 96) + (32 + 32) + (32 + 128) + (128 + 32))),
    ],
)
def test_only_the_adapters_train_and_reach_the_optimizer(targets, per_layer):
    module = _lora_module(rank=4, target_modules=targets)
    trainable = [p for p in module.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trainable) == 2 * per_layer  # rank x (in + out) per adapted layer, 2 layers
    optimizer, _ = module.optimizer_and_scheduler(total_steps=10, fused=False)
    in_optimizer = [p for group in optimizer.param_groups for p in group["params"]]
    assert {id(p) for p in in_optimizer} == {id(p) for p in trainable}


def test_the_merged_model_computes_what_the_wrapped_model_does(tmp_path):
    module = _lora_module(rank=4, target_modules=("c_attn", "c_fc"))
    _randomise_adapters(module)
    ids = torch.randint(0, 50257, (2, 12), generator=torch.Generator().manual_seed(0))
    module.model.eval()
    with torch.no_grad():
        wrapped = module.model(input_ids=ids).logits
        base = module._peft.get_base_model()
        with module._peft.disable_adapter():
            without = module.model(input_ids=ids).logits
        merged = merged_copy(module._peft)
        assert type(merged) is GPT2LMHeadModel and not any("lora" in n for n, _ in merged.named_parameters())
        torch.testing.assert_close(merged(input_ids=ids).logits, wrapped, rtol=1e-5, atol=1e-5)
        exported = GPT2LMHeadModel.from_pretrained(module.export(tmp_path / "export")).eval()
        torch.testing.assert_close(exported(input_ids=ids).logits, wrapped, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(without, wrapped)  # the adapters change the outputs...
    assert base is module.model and any("lora_A" in n for n, _ in module.model.named_parameters())  # ...and stay
    assert (tmp_path / "export" / "adapter" / "adapter_model.safetensors").is_file()


def test_a_lora_fit_checkpoints_adapters_only_exports_a_pipeline_model_and_resumes_exactly(
    run_cli, tiny_export, tmp_path
):
    lora = [f"--model.pretrained={tiny_export}", "--model.config=null", "--model.lora.rank=4"]
    lora += ["--trainer.limit_train_batches=2", "--trainer.limit_val_batches=1"]  # 2 steps an epoch are enough
    straight = tmp_path / "straight"
    assert run_cli(tiny_fit_args(straight, *lora, epochs=2, gpt2_vocab=True)) == 0
    run = straight / "runs" / "lit-gpt2" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    state = torch.load(last, map_location="cpu", weights_only=True)
    assert state["state_dict"] and all("lora_" in name for name in state["state_dict"])
    assert state["hyper_parameters"]["pretrained"] == str(tiny_export)
    base_bytes = sum(p.numel() * p.element_size() for p in GPT2LMHeadModel.from_pretrained(tiny_export).parameters())
    assert last.stat().st_size < base_bytes / 20  # adapters and their AdamW state, not the base
    # Reloaded, the checkpoint is the base plus the trained adapters.
    module = load_module(last)
    assert module.lora and all(torch.equal(module.state_dict()[k], v) for k, v in state["state_dict"].items())

    generator = pipeline("text-generation", model=str(run / "export"), device="cpu")
    assert isinstance(generator.model, GPT2LMHeadModel)
    assert generator("INT. DINER", max_new_tokens=3, do_sample=False)[0]["generated_text"].startswith("INT. DINER")

    cut = tmp_path / "cut"
    cut.mkdir()
    stop = cut / "stop.yaml"
    stop.write_text(yaml.safe_dump({"trainer": {"callbacks": [{"class_path": "conftest.StopAfterEpochs"}]}}))
    lora.append("--export.enabled=false")  # the straight run's export is the one checked
    assert run_cli(tiny_fit_args(cut, *lora, f"--config={stop}", epochs=2, gpt2_vocab=True)) == 0
    assert run_cli(tiny_fit_args(cut, *lora, "--ckpt_path=last", epochs=2, gpt2_vocab=True)) == 0
    resumed = torch.load(cut / "runs" / "lit-gpt2" / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert resumed["global_step"] == state["global_step"] == 4  # 2 epochs of 2 steps
    for name, tensor in state["state_dict"].items():
        assert torch.equal(tensor, resumed["state_dict"][name]), name


def test_lora_under_fsdp_is_refused_in_one_line_pointing_to_ddp():
    """Lightning runs FSDP on GPUs only, so the module's setup is given an FSDP trainer directly."""
    from lightning.pytorch.strategies import FSDPStrategy

    from lit_gpt2.errors import UserInputError

    module = _lora_module(rank=4)
    module.trainer = SimpleNamespace(strategy=FSDPStrategy(), datamodule=None)
    with pytest.raises(UserInputError, match="model.lora does not work with FSDP.*--trainer.strategy=ddp"):
        module.setup("fit")


@pytest.mark.parametrize(
    ("settings", "message"), [({"rank": 0}, "at least 1"), ({"target_modules": ["wte"]}, "c_attn")]
)
def test_bad_lora_settings_are_refused(settings, message):
    from lit_gpt2.errors import UserInputError

    with pytest.raises(UserInputError, match=message):
        LoraSettings(**settings)


def test_training_flops_count_no_weight_gradients_for_the_frozen_base():
    full = GPT2LitModule(config=TINY_CONFIG)
    lora = _lora_module(rank=4)
    for module, passes in ((full, 3), (lora, 2)):  # forward + backward (+ weight gradients)
        for length in (16, 8, 16):  # each length its own count (attention's share grows with it)
            module._last_batch_shape = (2, length)
            assert module.flops_per_batch == passes * forward_flops_per_token(module.model, length) * 2 * length


def test_the_watching_callbacks_run_unchanged_on_a_lora_model(run_cli, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    watching = ["SampleGenerationCallback", "AttentionHeatmapCallback", "LogitLensCallback"]
    callbacks = [{"class_path": f"lit_gpt2.callbacks.{name}"} for name in watching]
    callbacks[0]["init_args"] = {"max_new_tokens": 4, "strategies": ["greedy"]}
    config = tmp_path / "watch.yaml"
    config.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks}}))
    assert run_cli(tiny_fit_args(tmp_path, f"--config={config}", "--model.lora.rank=4", epochs=1)) == 0
    (run,) = (tmp_path / "runs" / "lit-gpt2").iterdir()
    events = EventAccumulator(str(run), size_guidance={"images": 0, "tensors": 0})
    events.Reload()
    for tag in ("attention/grid", "heads/induction", "lens/top_tokens"):
        assert [i.step for i in events.Images(tag)] == [0, 4], tag
    assert [s.step for s in events.Scalars("gen/greedy/distinct_2")] == [0, 4]
