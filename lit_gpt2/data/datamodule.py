"""The LightningDataModule: Lightning's loaders over a corpus's cached token blocks, or over a stream.

The corpus (sources, normalisation, split, genres, fitted tokenizer) is ``corpus.py``'s; tokenising and
packing it into memory-mapped blocks, cached, is ``token_cache.py``'s. This module holds Lightning's hooks,
the samplers, and the position of a stream, which a checkpoint saves.
"""

from collections.abc import Iterator, Mapping
from typing import Literal

import lightning as L
import torch
from datasets.distributed import split_dataset_by_node
from lightning.pytorch.overrides.distributed import UnrepeatedDistributedSampler
from lightning.pytorch.utilities import rank_zero_info
from torch.utils.data import DataLoader, DistributedSampler
from transformers import PreTrainedTokenizerBase

from lit_gpt2.bounds import NonNegativeInt, plain
from lit_gpt2.data.blocks import BlockDataset
from lit_gpt2.data.codes import code_labels_masked
from lit_gpt2.data.corpus import Corpus, normalisation_note
from lit_gpt2.data.screenplay import looks_like_screenplay
from lit_gpt2.data.sources import stream_documents
from lit_gpt2.data.streaming import InMemoryBlocks, StreamedBlocks, StreamPosition
from lit_gpt2.data.token_cache import TokenCache
from lit_gpt2.errors import UserInputError
from lit_gpt2.modeling.control import ControlFormat, control_code


class MovieScriptsDataModule(L.LightningDataModule):
    """Movie scripts as packed blocks of GPT-2 tokens, split by whole script.

    Args:
        source: Folder or glob of .txt screenplays, a CSV/JSONL/Parquet file, or a Hugging Face dataset
            name. ``None`` uses the original scenes shipped with the package.
        text_column: Column holding the script text (tables and hub datasets).
        title_column: Optional column with the script title, kept as metadata.
        genre_column: Optional column with the genre, kept as metadata.
        hub_split: Split to read from a hub dataset.
        hub_config: Configuration of a hub dataset that has several (e.g. ``wikitext-2-raw-v1``).
        tokenizer: Tokenizer name or directory (the CLI links it to the model's, and then hands the data
            the model's own tokenizer object: one vocabulary, codes included).
        train_tokenizer: Fit a byte-level BPE tokenizer of this many tokens to the training scripts
            (trained once, then cached by their contents) and use it for the data and the model instead
            of ``model.tokenizer``: far cheaper than GPT-2's 50,257 tokens for a small model trained from
            scratch. Not with pretrained weights, whose embeddings fit their own vocabulary.
        block_size: Tokens per training block; at most the model's context length.
        batch_size: Blocks per batch (per device).
        val_fraction: Fraction of scripts held out for validation (``fit``, ``validate``: picks the best
            checkpoint). A source with too few documents to split by script (one text file; two without
            a test split) is split by position instead: validation is the last ``val_fraction`` of its
            text, test the ``test_fraction`` before it, training the rest (docs/your-own-text.md).
        test_fraction: Fraction of scripts held out for ``test`` and ``predict`` only, never seen while
            choosing a checkpoint; 0 for none (then ``test`` is refused and ``predict`` reads validation).
        seed: Seed of the script-level split.
        normalize: Collapse screenplay indentation before tokenizing (saves tokens, keeps structure).
            Default (None): only when the source looks like screenplays (scene headings, character cues
            above dialogue); prose, plays and chat logs are kept as written. true/false forces it.
        num_workers: DataLoader worker processes.
        cache_dir: Where tokenized, packed blocks are cached; default: the ``datasets`` cache.
        num_proc: Processes that tokenize the scripts when the cache is built; ``None``: one per CPU core.
        cache_key: How a folder or glob of .txt scripts keys the cache: ``stat`` (path, size and
            modification time of each file: instant on gigabytes) or ``contents`` (every byte hashed:
            exact even if a file is rewritten with the same size within the clock's resolution). The
            embedded corpus, tables and hub datasets are always keyed by their text.
        streaming: Read a hub dataset (or a CSV/JSONL/Parquet file) as a stream, never copied to disk
            whole: validation is its first ``streaming_val_documents`` documents, training the rest,
            tokenised and packed on the fly in the training process (``num_workers=0``), each process of a
            multi-process run reading its own share. Needs ``trainer.max_steps`` (or an integer
            ``trainer.limit_train_batches``); each epoch reads the stream again from its start; a
            checkpoint holds the stream position, so a resumed run continues where it stopped (a run
            planned by ``max_steps``; resuming one planned by epochs is refused). No test
            split, no ``train_tokenizer``; ``val_fraction``, ``test_fraction``, ``cache_dir`` do not apply.
        streaming_val_documents: Documents held out for validation at the head of a stream.
        control: ``genre``: start each script with a control code for its genre (docs/control-codes.md),
            so that generation can ask for a genre. Genres come from the embedded corpus's folders, a
            folder per genre under ``source``, or ``genre_column``. The model learns the codes too (the
            CLI hands them over).
        control_format: ``special``: each code is one new special token ``<|genre:noir|>`` (the
            embedding grows); ``text``: a plain-text first line ``[noir]``.
        uncoded_fraction: Share of scripts left without a code (seeded), so the model still writes
            without one.
    """

    def __init__(
        self,
        source: str | None = None,
        text_column: str = "text",
        title_column: str | None = None,
        genre_column: str | None = None,
        hub_split: str = "train",
        hub_config: str | None = None,
        tokenizer: str = "gpt2",
        train_tokenizer: int | None = None,
        block_size: int = 256,
        batch_size: int = 8,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        seed: int = 42,
        normalize: bool | None = None,
        num_workers: NonNegativeInt = 0,
        cache_dir: str | None = None,
        num_proc: int | None = None,
        cache_key: Literal["stat", "contents"] = "stat",
        streaming: bool = False,
        streaming_val_documents: int = 100,
        control: Literal["genre"] | None = None,
        control_format: ControlFormat = "special",
        uncoded_fraction: float = 0.1,
    ) -> None:
        super().__init__()
        num_workers = plain(num_workers)
        if block_size < 2:
            raise UserInputError(f"data.block_size={block_size} is too small: use at least 2 (e.g. 256)")
        if batch_size < 1:
            raise UserInputError(f"data.batch_size={batch_size} must be at least 1")
        if num_proc is not None and num_proc < 1:
            raise UserInputError(f"data.num_proc={num_proc} must be at least 1 (or null for one per CPU core)")
        if streaming:
            if num_workers:
                raise UserInputError(
                    f"data.streaming reads the stream in the training process, whose position a checkpoint "
                    f"stores: set data.num_workers=0 (not {num_workers})"
                )
            if streaming_val_documents < 1:
                raise UserInputError(f"data.streaming_val_documents={streaming_val_documents} must be at least 1")
        if not 0 <= uncoded_fraction < 1:
            raise UserInputError(f"data.uncoded_fraction={uncoded_fraction} must be in [0, 1)")
        self.save_hyperparameters()
        self.block_size = block_size
        self.corpus = Corpus.from_options(self.hparams)  # settings only: nothing is read until asked
        self.cache = TokenCache(self.corpus, block_size, uncoded_fraction, num_proc, cache_key)
        self._tokenizer: PreTrainedTokenizerBase | None = None  # resolved when first needed, or handed over
        self._stream_normalise: bool | None = None  # a stream's normalisation, judged on its held-out head
        self._code_ids: torch.Tensor | None = None  # the special code tokens, never a target (setup)
        self.splits: Mapping[str, BlockDataset | InMemoryBlocks] | None = None
        self.split_mode: Literal["script", "position", "stream"] | None = None  # known after setup
        self.stream: StreamedBlocks | None = None
        self._stream_state: dict | None = None  # a checkpoint's stream position, until the stream exists
        self._consumed_batches = 0  # training batches the trainer took from the current iteration

    def prepare_data(self) -> None:
        # Runs once per node before setup: tokenization happens here, and the other ranks then read the
        # cache in setup. This rank keeps what it built rather than reading the sources a second time.
        if not self.hparams["streaming"]:
            self._load_or_build()

    def setup(self, stage: str) -> None:
        # The corpus has codes (its genres) exactly when data.control is set.
        if self.hparams["control_format"] == "special" and (genres := self.corpus.codes) is not None:
            codes = [control_code(genre, "special") for genre in genres]
            self._code_ids = torch.tensor(self.tokenizer.convert_tokens_to_ids(codes))
        if self.hparams["streaming"]:
            if self.splits is None:
                self._setup_stream(stage)
        elif self.splits is None:
            self._load_or_build()

    @property
    def tokenizer(self) -> PreTrainedTokenizerBase:
        """The data's tokenizer, codes included: the one handed over (the CLI gives the model's), else
        the corpus's, resolved once (``Corpus.tokenizer``)."""
        if self._tokenizer is None:
            self._tokenizer = self.corpus.tokenizer(self.hparams["tokenizer"])
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self._tokenizer = tokenizer

    def normalising(self) -> bool:
        """Whether the text is normalised: the corpus's decision, or a stream's (judged on its head)."""
        return self._stream_normalise if self._stream_normalise is not None else self.corpus.normalising

    def _load_or_build(self) -> None:
        self.splits, by_position = self.cache.blocks(self.tokenizer)
        self.split_mode = "position" if by_position else "script"

    def train_dataloader(self) -> DataLoader:
        if self.hparams["streaming"]:
            assert self.stream is not None, "call setup() first"
            return DataLoader(self.stream, batch_size=self.hparams["batch_size"], drop_last=True)
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        """The test scripts, held out from training and from checkpoint selection alike."""
        if self.hparams["streaming"]:
            raise UserInputError("data.streaming holds out validation documents only: test needs a prepared source")
        if "test" not in self._ready_splits:
            raise UserInputError("data.test_fraction=0 leaves no test split: set data.test_fraction (e.g. 0.1)")
        return self._loader("test", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test" if "test" in self._ready_splits else "validation", shuffle=False)

    @property
    def _ready_splits(self) -> Mapping[str, BlockDataset | InMemoryBlocks]:
        """The splits, which setup makes."""
        assert self.splits is not None, "call setup() first"
        return self.splits

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        hp = self.hparams
        dataset = self._ready_splits[split]
        world_size, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer else (1, 0)
        if shuffle:
            # The order is a function of (seed, epoch) alone, set by Lightning through set_epoch: every rank
            # reads a disjoint share (no block twice per epoch), and a resumed run reads what an
            # uninterrupted one would have.
            sampler: DistributedSampler[int] = DistributedSampler(
                dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=hp["seed"], drop_last=True
            )
            if len(sampler) < hp["batch_size"]:
                raise UserInputError(
                    f"data.batch_size={hp['batch_size']} is more than the {len(sampler)} training blocks "
                    f"each of the {world_size} process(es) gets: lower data.batch_size or data.block_size"
                )
        else:
            # Evaluation sees every block exactly once across ranks (no padding duplicates), so the
            # token-weighted perplexity equals the single-process figure.
            sampler = UnrepeatedDistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=hp["batch_size"],
            sampler=sampler,
            num_workers=hp["num_workers"],
            pin_memory=torch.cuda.is_available(),
            persistent_workers=hp["num_workers"] > 0,
            # Training steps are all full batches: static shapes (torch.compile, comparable step times).
            drop_last=shuffle,
        )

    def _setup_stream(self, stage: str) -> None:
        hp = self.hparams
        trainer = self.trainer
        if stage == "fit" and trainer is not None:
            limit = trainer.limit_train_batches
            if trainer.max_steps < 0 and not (isinstance(limit, int) and limit > 0):
                # An endless stream has no length to plan the LR schedule (estimated_stepping_batches) by.
                raise UserInputError("data.streaming has no length to plan training by: set trainer.max_steps")
        tokenizer = self.tokenizer
        documents = stream_documents(hp["source"], hp["text_column"], hp["hub_split"], hp["hub_config"])
        held_out = [row["text"] for row in documents.take(hp["streaming_val_documents"])]
        if self._stream_normalise is None:  # data.normalize, else judged on the held-out head of the stream
            self._stream_normalise = hp["normalize"] if hp["normalize"] is not None else looks_like_screenplay(held_out)
        rank_zero_info(f"data: {hp['source']}, streamed; {normalisation_note(hp['normalize'], self.normalising())}.")
        validation = InMemoryBlocks(held_out, tokenizer, self.normalising(), hp["block_size"])
        if len(validation) == 0:
            raise UserInputError(
                f"the first data.streaming_val_documents={hp['streaming_val_documents']} documents are smaller than "
                f"one block of data.block_size={hp['block_size']}: raise data.streaming_val_documents"
            )
        self.splits = {"validation": validation}
        self.split_mode = "stream"
        rank_zero_info(
            f"validation: the first {hp['streaming_val_documents']} streamed documents, {len(validation)} blocks."
        )
        training = documents.skip(hp["streaming_val_documents"])
        world_size, rank = (trainer.world_size, trainer.global_rank) if trainer else (1, 0)
        if world_size > 1:  # every process reads its own share of the documents
            training = split_dataset_by_node(training, rank=rank, world_size=world_size)

        def texts(skip: int) -> Iterator[str]:
            return (row["text"] for row in (training.skip(skip) if skip else training))

        self.stream = StreamedBlocks(texts, tokenizer, self.normalising(), hp["block_size"], self._iteration_start)

    def _iteration_start(self) -> StreamPosition:
        """Where an epoch's pass over the stream starts: a checkpoint's position when resuming within the
        epoch it stopped in, else the start (each epoch reads the stream again)."""
        self._consumed_batches = 0
        state, self._stream_state = self._stream_state, None
        trainer = self.trainer
        if state is None or trainer is None or state["epoch"] != trainer.current_epoch:
            return StreamPosition()
        if len(state["positions"]) != trainer.world_size:
            raise UserInputError(
                f"this checkpoint's stream was read by {len(state['positions'])} process(es), each its own share: "
                f"resume it with as many, not {trainer.world_size}"
            )
        return StreamPosition(*state["positions"][trainer.global_rank])

    def on_before_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        # Counts the batches the training loop took, not those the DataLoader fetched ahead.
        if self.stream is not None and self.trainer is not None and self.trainer.training:
            self._consumed_batches += 1
        if self._code_ids is not None:
            batch["labels"] = code_labels_masked(batch["input_ids"], self._code_ids)
        return batch

    def state_dict(self) -> dict:
        """The stream position of what training consumed (streaming only), saved in checkpoints."""
        if self.stream is None:
            return {}
        at = self.stream.position_after(self._consumed_batches * self.hparams["batch_size"])
        positions = [[at.documents, at.offset]]
        trainer = self.trainer
        if trainer is not None and trainer.world_size > 1:
            # Each process reads its own share: the checkpoint (written by rank 0) holds every position.
            gathered = trainer.strategy.all_gather(torch.tensor(positions[0], device=trainer.strategy.root_device))
            positions = gathered.cpu().tolist()
        return {"stream": {"epoch": trainer.current_epoch if trainer is not None else 0, "positions": positions}}

    def load_state_dict(self, state_dict: dict) -> None:
        if "stream" not in state_dict:
            return
        if not self.hparams["streaming"]:
            raise UserInputError("this checkpoint was trained on a stream: resume it with data.streaming=true")
        if self.trainer is not None and self.trainer.max_steps < 0:
            # Epochs of a stream cut by limit_train_batches have no position Lightning resumes at reliably.
            raise UserInputError(
                "a streamed run resumes exactly only when planned by steps: set trainer.max_steps (and "
                "trainer.max_epochs=-1)"
            )
        self._stream_state = state_dict["stream"]  # applied when the next pass over the stream starts
