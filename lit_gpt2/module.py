"""The LightningModule around Hugging Face's ``GPT2LMHeadModel``."""

import math
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import lightning as L
import torch
from lightning.pytorch.plugins.precision import MixedPrecision
from lightning.pytorch.strategies import FSDPStrategy
from lightning.pytorch.utilities.types import OptimizerLRSchedulerConfig
from torchmetrics.aggregation import MeanMetric, SumMetric
from transformers import GPT2LMHeadModel, PreTrainedTokenizerBase

from lit_gpt2.allocator import keep_freed_memory
from lit_gpt2.bounds import (
    ClosedUnitInterval,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    UnitIntervalOpenRight,
    plain,
)
from lit_gpt2.distributed import is_sharded
from lit_gpt2.errors import TrainingDiverged, UserInputError
from lit_gpt2.evaluation.bits_per_byte import bits_per_byte, token_byte_lengths
from lit_gpt2.evaluation.flops import forward_flops_per_token
from lit_gpt2.files import replaced_atomically
from lit_gpt2.model_card import write_model_card
from lit_gpt2.modeling import build_model, tokenizer_source
from lit_gpt2.modeling.build import enable_gradient_checkpointing
from lit_gpt2.modeling.control import ControlFormat
from lit_gpt2.modeling.lean import lean_hidden_states, lean_unsupported
from lit_gpt2.modeling.lora import LoraSettings, apply_lora, merged_copy, save_adapter, trainable_names
from lit_gpt2.modeling.loss import chunked_lm_loss, lm_loss
from lit_gpt2.modeling.tokenizer import resolve_tokenizer
from lit_gpt2.optim import adamw_param_groups, warmup_cosine_scheduler

if TYPE_CHECKING:
    from peft import PeftModel
    from torch.distributed.fsdp import FullyShardedDataParallel

T = TypeVar("T")


class GPT2LitModule(L.LightningModule):
    """GPT-2 causal language model trained on packed blocks of text.

    Args:
        pretrained: Hub name or local directory of pretrained weights (e.g. ``gpt2``).
        preset: Named GPT-2 size with random weights: gpt2, gpt2-medium, gpt2-large, gpt2-xl, distilgpt2.
        config: Explicit ``GPT2Config`` fields for a random-init model (e.g. n_layer, n_head, n_embd).
        tokenizer: Tokenizer name or directory; defaults to the pretrained model's, else GPT-2's.
        learning_rate: Peak AdamW learning rate, reached after warmup.
        weight_decay: AdamW weight decay for matrices (biases and LayerNorm weights get none).
        betas: AdamW betas.
        warmup_steps: Linear warmup steps before the cosine decay.
        min_lr_ratio: Final learning rate as a fraction of ``learning_rate``.
        attn_implementation: Attention kernel of transformers' forward (generation, probes, and training
            when ``lean_forward`` is off): ``sdpa`` (fast) or ``eager``.
        lean_forward: Train through a lean forward over the model's own weights (``modeling/lean.py``:
            causal SDPA with no mask, fused GELU, as nanoGPT does) instead of transformers' generic one:
            the same loss and gradients, faster (``python -m bench.optimisations``). Default (None): on,
            except under FSDP and DeepSpeed, whose wrappers gather each block's weights in its own forward.
        vocab_multiple: With ``lean_forward``, pad the output layer to a multiple of this many tokens for
            the loss on full logits (``loss_chunk_size=0``), as nanoGPT does: GPUs multiply 50,304-row
            matrices much faster than 50,257-row ones. The padded rows exist only inside the loss (zero
            weights, logits dropped before the softmax): never targeted, never sampled, absent from
            checkpoints and exports.
            Default (None): 64 on GPUs, 1 (no padding) on CPUs.
        loss_chunk_size: Tokens per chunk of the fused LM-head + cross-entropy, which never holds the
            whole batch's logits (same loss; faster and smaller on CPUs, slower on GPUs: see
            ``python -m bench.optimisations``); 0 computes it on full logits (transformers' own loss when
            ``lean_forward`` is off). Default
            (None): 1024 on CPUs, 0 on GPUs.
        compile: ``torch.compile`` the training and evaluation loss computation (not the side passes:
            generation's growing shapes would recompile at every length). Default (None): on for
            single-GPU and DDP runs, where it measured about 2x faster; off on CPUs and sharded strategies.
        fused_adamw: AdamW's fused kernel (one pass over all weights instead of a loop per tensor, about
            4x faster on a CPU too); default (None): fused, except under a loss scaler (16-mixed), whose
            clipping must see unscaled gradients.
        lora: Train LoRA adapters (``peft``) instead of every weight: only the adapters train and reach the
            optimizer, and with ``pretrained`` weights a checkpoint holds only the adapters and their
            optimizer state (the base is reloaded from ``pretrained``). The export merges them into a
            plain model (and writes the adapter alone to ``export/adapter``). Not with FSDP: use DDP.
        control_codes: Genres whose control codes the data puts before scripts (``data.control``; the
            CLI hands them over): special tokens are added to the tokenizer, the embedding grows (GPT-2's
            LM head stays tied to it), and the codes are recorded in the export's config.
        control_format: How the codes are written: ``special`` tokens or a ``text`` first line.
        gradient_checkpointing: Recompute each block's activations in the backward pass instead of
            keeping them (transformers' ``gradient_checkpointing_enable``): far less activation memory for
            about a third more step time (docs/memory.md). Works with compile, LoRA and DDP.
        keep_freed_memory: Keep the memory a step frees for the next one instead of handing it back to
            the kernel (glibc's malloc thresholds, ``lit_gpt2/allocator.py``): on a CPU each step's
            activations then reuse warm pages instead of faulting in fresh ones (``python -m
            bench.allocator``). For the whole process, from ``setup`` on; Linux with glibc only.
            Default (None): on when the run is on CPUs.
    """

    _peft: "PeftModel | None"  # set through __dict__, outside the module tree (see __init__)
    token_bytes: torch.Tensor  # a buffer (see __init__)

    def __init__(
        self,
        pretrained: str | None = None,
        preset: str | None = None,
        config: dict[str, Any] | None = None,
        tokenizer: str | None = None,
        learning_rate: PositiveFloat = 3e-4,
        weight_decay: NonNegativeFloat = 0.1,
        betas: tuple[UnitIntervalOpenRight, UnitIntervalOpenRight] = (0.9, 0.95),
        warmup_steps: NonNegativeInt = 100,
        min_lr_ratio: ClosedUnitInterval = 0.1,
        attn_implementation: str = "sdpa",
        lean_forward: bool | None = None,
        vocab_multiple: int | None = None,
        loss_chunk_size: int | None = None,
        compile: bool | None = None,
        fused_adamw: bool | None = None,
        lora: LoraSettings | None = None,
        control_codes: list[str] | None = None,
        control_format: ControlFormat = "special",
        gradient_checkpointing: bool = False,
        keep_freed_memory: bool | None = None,
    ) -> None:
        super().__init__()
        # The checkpoint records the tokenizer actually used (the name the CLI hands the data module too);
        # kept out of the initial hparams so the logger does not see two differing "tokenizer" values.
        tokenizer = tokenizer_source(pretrained, tokenizer)
        learning_rate, weight_decay, min_lr_ratio = plain(learning_rate), plain(weight_decay), plain(min_lr_ratio)
        betas, warmup_steps = (plain(betas[0]), plain(betas[1])), plain(warmup_steps)
        self.save_hyperparameters(ignore=["tokenizer"])
        self.hparams["tokenizer"] = tokenizer
        # The run's one tokenizer (the CLI hands this object to the data module too).
        self.tokenizer: PreTrainedTokenizerBase = resolve_tokenizer(tokenizer, control_codes, control_format)
        self.model: GPT2LMHeadModel = build_model(
            pretrained=pretrained,
            preset=preset,
            config=config,
            vocab_size=len(self.tokenizer),
            pad_token_id=self.tokenizer.pad_token_id,
            attn_implementation=attn_implementation,
            eos_token_id=self.tokenizer.eos_token_id,
        )
        if control_codes:  # generate, compare and the demo read them from the export's config
            self.model.config.control_codes = {"format": control_format, "genres": list(control_codes)}
        if gradient_checkpointing:  # before LoRA, so that peft sees it
            enable_gradient_checkpointing(self.model)
        if isinstance(lora, dict):  # as a checkpoint records it
            lora = LoraSettings(**lora)
        # peft's wrapper of self.model (adapters injected in place), kept out of the module tree so the
        # weights appear once in state_dict, under self.model's names.
        self.__dict__["_peft"] = apply_lora(self.model, lora) if lora else None
        self.hparams["lora"] = asdict(lora) if lora else None
        if loss_chunk_size is not None and loss_chunk_size < 0:
            raise UserInputError(f"model.loss_chunk_size={loss_chunk_size} must be >= 0 (0: full logits)")
        if vocab_multiple is not None and vocab_multiple < 1:
            raise UserInputError(f"model.vocab_multiple={vocab_multiple} must be >= 1 (1: no padding; e.g. 64)")
        if lean_forward and (reason := lean_unsupported(self.model)):
            raise UserInputError(f"model.lean_forward does not handle {reason}: set model.lean_forward=false")
        self.resolve_speed_switches(on_gpu=False, sharded=False)  # until setup() knows the device
        self._last_batch_shape: tuple[int, int] | None = None  # for flops_per_batch
        self._forward_flops: dict[int, int] = {}  # forward FLOPs per token, by sequence length
        self._first_bad_step: torch.Tensor | None = None  # first step with a non-finite loss, on the device
        self._first_bad_loss: torch.Tensor | None = None
        # Token-weighted mean NLL over a whole epoch, synchronised across ranks by torchmetrics, and the
        # NLL sum and bytes behind bits per byte.
        self.val_nll, self.val_nll_sum, self.val_bytes = MeanMetric(), SumMetric(), SumMetric()
        self.test_nll, self.test_nll_sum, self.test_bytes = MeanMetric(), SumMetric(), SumMetric()
        self.register_buffer("token_bytes", token_byte_lengths(self.tokenizer), persistent=False)

    @property
    def context_length(self) -> int:
        return self.model.config.n_positions

    def resolve_speed_switches(self, on_gpu: bool, sharded: bool) -> None:
        """The switches left unset (None) chosen for the device and strategy: ``setup`` calls it once the
        trainer knows them; a raw loop (``python -m bench``) calls it for its own device."""
        hp = self.hparams
        if hp["lean_forward"] and sharded:
            raise UserInputError(
                "model.lean_forward=true does not work under FSDP or DeepSpeed, which gather each block's "
                "weights in the block's own forward: leave model.lean_forward unset (off there)"
            )
        auto_lean = not sharded and lean_unsupported(self.model) is None
        self._lean = hp["lean_forward"] if hp["lean_forward"] is not None else auto_lean
        self._vocab_multiple = hp["vocab_multiple"] or (64 if on_gpu else 1)
        self._loss_chunk_size = hp["loss_chunk_size"] if hp["loss_chunk_size"] is not None else (0 if on_gpu else 1024)
        compile_ = hp["compile"] if hp["compile"] is not None else on_gpu and not sharded
        self._lm_loss = torch.compile(self._uncompiled_lm_loss) if compile_ else self._uncompiled_lm_loss
        keep = hp["keep_freed_memory"]
        self._keep_freed_memory = keep if keep is not None else not on_gpu

    def tune_allocator(self) -> bool:
        """Apply ``keep_freed_memory`` to the process, as resolved for the device; whether it is in force.
        ``setup`` calls it; a raw loop (``python -m bench``) calls it after ``resolve_speed_switches``."""
        return self._keep_freed_memory and keep_freed_memory()

    @property
    def lora(self) -> bool:
        return self._peft is not None

    @property
    def attached_trainer(self) -> "L.Trainer | None":
        """The trainer running this module, or None outside one (built for export, a command or a test)."""
        try:
            return self.trainer
        except RuntimeError:  # Lightning's public ``trainer`` refuses a module no trainer runs
            return None

    def setup(self, stage: str) -> None:
        trainer = self.attached_trainer
        if trainer is not None:
            strategy = trainer.strategy
            if self.lora and isinstance(strategy, FSDPStrategy):
                raise UserInputError(
                    "model.lora does not work with FSDP (frozen and trainable weights would share FSDP's flat "
                    "parameters): use --trainer.strategy=ddp, where a LoRA model's gradients and optimizer "
                    "state are small anyway"
                )
            self.resolve_speed_switches(strategy.root_device.type == "cuda", is_sharded(strategy))
            self.tune_allocator()
        # Lightning sets trainer.datamodule (and log_every_n_steps, callbacks) in its connectors without declaring it.
        datamodule = trainer.datamodule if trainer is not None else None  # type: ignore[attr-defined]
        block_size = getattr(datamodule, "block_size", None)
        if block_size is not None and block_size > self.context_length:
            raise UserInputError(
                f"data.block_size={block_size} exceeds the model's context of {self.context_length} tokens: "
                f"set data.block_size to at most {self.context_length}"
            )

    def on_fit_start(self) -> None:
        self._epoch_seed_base = torch.initial_seed()

    def on_train_batch_start(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        # Dropout draws from the global RNG. Seeding it from (run seed, epoch, batch) makes each batch's
        # masks independent of history (Lightning itself draws from the RNG between epochs, and
        # differently after a restart), so a run resumed from any checkpoint, mid-epoch included, trains
        # exactly as an uninterrupted one; the data module seeds the order the same way.
        seed_dropout(self._epoch_seed_base + (self.current_epoch << 32) + batch_idx, self.device)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def shared_step(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean next-token NLL of the batch and the number of tokens it averages over."""
        labels = batch.get("labels", batch["input_ids"])
        n_tokens = (labels[:, 1:] != -100).sum()
        return self._lm_loss(batch["input_ids"], batch.get("attention_mask"), labels), n_tokens

    def _uncompiled_lm_loss(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, labels: torch.Tensor
    ) -> torch.Tensor:
        if self._lean and attention_mask is None:  # packed blocks: causal, nothing padded
            hidden = lean_hidden_states(self.model, input_ids)
        elif self._lean or self._loss_chunk_size:
            # transformers' forward builds a key/value cache unless told not to: no use while training.
            hidden = self.model.transformer(
                input_ids=input_ids, attention_mask=attention_mask, use_cache=False
            ).last_hidden_state
        else:
            return self.model(input_ids=input_ids, attention_mask=attention_mask, labels=labels, use_cache=False).loss
        weight = self.model.lm_head.weight
        if self._loss_chunk_size:
            return chunked_lm_loss(hidden, weight, labels, self._loss_chunk_size)
        return lm_loss(hidden, weight, labels, self._vocab_multiple)

    def side_pass(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (generation, attention probes) as this module's forward work. Callbacks call it
        through the strategy's forward redirection, so sharded strategies (FSDP, DeepSpeed ZeRO-3)
        gather the weights for it exactly as they do for ``training_step``."""
        return fn()

    @property
    def flops_per_batch(self) -> int | None:
        """Training FLOPs of the last batch, for Lightning's ThroughputMonitor, which turns it into FLOP/s
        and, on known GPUs, MFU: 3 x forward (see ``lit-gpt2 architecture``); 2 x with LoRA, whose frozen
        weights need the backward pass's activation gradients but no weight gradients (the adapters'
        own are negligible)."""
        if self._last_batch_shape is None:
            return None
        batch_size, seq_len = self._last_batch_shape
        if seq_len not in self._forward_flops:  # counting the weights walks every parameter: once per length
            self._forward_flops[seq_len] = forward_flops_per_token(self.model, seq_len)
        passes = 2 if self.lora else 3
        return passes * self._forward_flops[seq_len] * batch_size * seq_len

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        batch_size, seq_len = batch["input_ids"].shape
        self._last_batch_shape = (batch_size, seq_len)
        loss, _ = self.shared_step(batch)
        self._watch_for_divergence(loss)
        if (batch_idx + 1) % max(1, self.trainer.log_every_n_steps) == 0:  # type: ignore[attr-defined]
            self._stop_if_diverged()
        self.log("train/loss", loss, on_step=True, on_epoch=False, prog_bar=True)
        return loss

    def _watch_for_divergence(self, loss: torch.Tensor) -> None:
        """Remember, on the device, the first step whose loss was not finite: no host synchronisation
        per step (which would stall a GPU's queue); ``_stop_if_diverged`` reads it now and then."""
        if self._first_bad_step is None or self._first_bad_loss is None or self._first_bad_step.device != loss.device:
            self._first_bad_step = torch.tensor(-1, device=loss.device)
            self._first_bad_loss = torch.tensor(0.0, device=loss.device)
        first = ~torch.isfinite(loss.detach()) & (self._first_bad_step < 0)
        self._first_bad_step = torch.where(first, self.global_step, self._first_bad_step)
        self._first_bad_loss = torch.where(first, loss.detach().float(), self._first_bad_loss)

    def _stop_if_diverged(self) -> None:
        """Stop if any rank saw a non-finite loss, naming its first step: every logging interval (when
        Lightning synchronises to log anyway) and before each validation, so that no checkpoint saved
        after it holds diverged weights. Every rank takes the same decision, so none waits in a collective."""
        step, bad_loss = self._first_bad_step, self._first_bad_loss
        seen = step is not None and bool(step >= 0)
        if not self.trainer.strategy.reduce_boolean_decision(seen, all=False):
            return
        where = "not finite"  # on this rank; another saw it
        if seen and step is not None and bad_loss is not None:
            where = f"{bad_loss.item()} at step {step.item()}"
        raise TrainingDiverged(
            f"train/loss is {where} (epoch {self.current_epoch}): training stopped, and the last good checkpoint "
            f"is kept ({self._last_checkpoint()}); resume from it with a lower model.learning_rate or "
            "trainer.gradient_clip_val"
        )

    def on_validation_start(self) -> None:
        if self.trainer.state.fn == "fit" and not self.trainer.sanity_checking:
            self._stop_if_diverged()

    def _last_checkpoint(self) -> str:
        callback = self.trainer.checkpoint_callback
        return getattr(callback, "last_model_path", "") or getattr(callback, "best_model_path", "") or "none yet"

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _eval_step(self, batch: dict[str, torch.Tensor], stage: str) -> None:
        loss, n_tokens = self.shared_step(batch)
        labels = batch.get("labels", batch["input_ids"])[:, 1:]
        n_bytes = self.token_bytes[labels.clamp(min=0)].masked_fill(labels == -100, 0).sum()
        getattr(self, f"{stage}_nll").update(loss.detach(), weight=n_tokens)
        getattr(self, f"{stage}_nll_sum").update(loss.detach() * n_tokens)
        getattr(self, f"{stage}_bytes").update(n_bytes)

    def on_validation_epoch_end(self) -> None:
        self._log_epoch_metrics("val")

    def on_test_epoch_end(self) -> None:
        self._log_epoch_metrics("test")

    def _log_epoch_metrics(self, stage: str) -> None:
        metrics = [getattr(self, f"{stage}_{name}") for name in ("nll", "nll_sum", "bytes")]
        mean_nll, nll_sum, n_bytes = (metric.compute() for metric in metrics)
        values = {
            f"{stage}/loss": mean_nll,
            f"{stage}/ppl": torch.exp(mean_nll),
            f"{stage}/bpb": bits_per_byte(nll_sum, n_bytes),
        }
        for metric in metrics:
            metric.reset()
        if self.attached_trainer is not None and self.trainer.sanity_checking:
            self._log_baseline(values)
            return
        for name, value in values.items():
            self.log(name, value, prog_bar=True, sync_dist=True)

    def _log_baseline(self, values: dict[str, torch.Tensor]) -> None:
        """Lightning logs nothing from its sanity check; one over the whole validation set
        (``trainer.num_sanity_val_steps=-1``) before the first step is the curves' step-0 point, the
        "before training" baseline beside the callbacks' step-0 samples. The metrics are synchronised
        across ranks already, and the loggers write on rank 0 only."""
        if self.global_step == 0 and math.isinf(self.trainer.num_sanity_val_steps):
            for logger in self.trainer.loggers:
                logger.log_metrics({name: float(value) for name, value in values.items()}, step=0)

    def predict_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        """Per-sequence perplexity: which blocks the model finds hardest."""
        labels = batch["input_ids"]
        logits = self(batch["input_ids"]).float()
        shifted, targets = logits[:, :-1], labels[:, 1:]
        nll = torch.nn.functional.cross_entropy(  # classes last, rows flattened: the fast CPU layout
            shifted.reshape(-1, shifted.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="none"
        ).view(targets.shape)
        valid = (labels[:, 1:] != -100).float()
        per_sequence = (nll * valid).sum(1) / valid.sum(1).clamp(min=1)
        return {"nll": per_sequence, "ppl": per_sequence.exp()}

    def configure_optimizers(self) -> OptimizerLRSchedulerConfig:
        scaled = getattr(self.trainer.precision_plugin, "scaler", None) is not None  # only AMP plugins have one
        fused = self.uses_fused_adamw(scaled)
        optimizer, scheduler = self.optimizer_and_scheduler(int(self.trainer.estimated_stepping_batches), fused)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def uses_fused_adamw(self, scaled: bool) -> bool:
        """``model.fused_adamw``, or when unset: fused unless a loss scaler (16-mixed) is at work, whose
        clipping must see unscaled gradients; the Trainer's rule and the benchmark's raw loop's."""
        chosen = self.hparams["fused_adamw"]
        return chosen if chosen is not None else not scaled

    def optimizer_and_scheduler(
        self, total_steps: int, fused: bool
    ) -> tuple[torch.optim.AdamW, torch.optim.lr_scheduler.LambdaLR]:
        """AdamW (no decay on biases and norms) with warmup then cosine decay over ``total_steps``; the
        training loop's and the benchmark's raw loop's, so both step the same optimizer."""
        hp = self.hparams
        optimizer = torch.optim.AdamW(
            adamw_param_groups(self.model, hp["weight_decay"]),
            lr=hp["learning_rate"],
            betas=tuple(hp["betas"]),
            fused=fused or None,  # None, not False: torch then picks foreach or the loop itself
        )
        total = max(1, total_steps)
        scheduler = warmup_cosine_scheduler(optimizer, min(hp["warmup_steps"], total), total, hp["min_lr_ratio"])
        return optimizer, scheduler

    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """Norm clipping in the two places Lightning refuses it although it is sound: under FSDP (FSDP's
        own ``clip_grad_norm_`` takes the norm over all shards) and with fused AdamW under bf16-mixed
        (no loss scaler, so the gradients are already true ones, as under 32-true)."""
        if gradient_clip_val and gradient_clip_algorithm in (None, "norm"):
            strategy, precision = self.trainer.strategy, self.trainer.precision_plugin
            if isinstance(strategy, FSDPStrategy):
                # Set up, FSDPStrategy.model is the FullyShardedDataParallel wrapper; Lightning types it Module.
                cast("FullyShardedDataParallel", strategy.model).clip_grad_norm_(gradient_clip_val)
                return
            if isinstance(precision, MixedPrecision) and precision.scaler is None:
                params = [p for group in optimizer.param_groups for p in group["params"]]
                torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)
                return
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.lora and self.hparams["pretrained"]:
            # Adapters only (megabytes, not the base's gigabytes): loading rebuilds the base from
            # model.pretrained, which the checkpoint keeps, and on_load_checkpoint fills it in.
            keep = {f"model.{name}" for name in trainable_names(self.model)}
            checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in keep}
            return
        # Record the full architecture so the checkpoint reloads offline without the hub or its YAML.
        checkpoint["hyper_parameters"] = {
            **checkpoint["hyper_parameters"],
            "pretrained": None,
            "preset": None,
            "config": self.model.config.to_diff_dict(),
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if self.lora:
            # An adapter-only checkpoint: the frozen base weights are the ones just rebuilt from hparams.
            checkpoint["state_dict"] = {**self.state_dict(), **checkpoint["state_dict"]}

    def export(self, directory: str | Path, card_facts: dict[str, Any] | None = None) -> Path:
        """Save model and tokenizer in Hugging Face format (safetensors) for ``transformers.pipeline``, with
        a model card (``README.md``) from ``card_facts`` (``lit_gpt2.model_card.card_facts``; without
        them, the card tells what the model itself knows).

        A LoRA model is saved with its adapters merged into the weights (a plain ``GPT2LMHeadModel``),
        and the adapter alone in ``adapter/`` beside it (``peft.PeftModel.from_pretrained(base, DIR/adapter)``).
        """
        directory = Path(directory)
        with replaced_atomically(directory) as work:
            if self._peft is not None:  # LoRA
                merged_copy(self._peft).save_pretrained(work)
                save_adapter(self._peft, work / "adapter")
            else:
                self.model.save_pretrained(work)
            self.tokenizer.save_pretrained(work)
            write_model_card(work, self, card_facts)
        return directory


def seed_dropout(seed: int, device: torch.device) -> None:
    """Seed the generator that dropout on ``device`` draws from, and the CPU's. Not ``torch.manual_seed``:
    where CUDA or MTIA has not started (any CPU run), it records the caller's whole stack to seed them
    later, a millisecond a step under Lightning's deep stack (a percent of a quickstart step)."""
    torch.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)  # this process's device: each DDP rank seeds its own
    elif device.type != "cpu":
        torch.manual_seed(seed)


def lit_module(pl_module: L.LightningModule) -> GPT2LitModule:
    """``pl_module`` as the ``GPT2LitModule`` it is: Lightning gives callbacks the base class, and lit-gpt2's
    callbacks read this module's model and tokenizer."""
    if not isinstance(pl_module, GPT2LitModule):
        raise TypeError(f"lit-gpt2's callbacks need a GPT2LitModule, not a {type(pl_module).__name__}")
    return pl_module
