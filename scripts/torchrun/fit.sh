#!/bin/bash
# Multi-node fine-tuning without SLURM: run this on every node with the same HEAD_ADDR.
#
#   NNODES=2 NODE_RANK=0 HEAD_ADDR=10.0.0.1 bash scripts/torchrun/fit.sh --config configs/gpt2-finetune.yaml ...
#
# After an interruption, run it again with --ckpt_path=last added: it continues the newest run.
#
# Lightning detects torchrun (TorchElasticEnvironment) and takes ranks and world size from it;
# --trainer.num_nodes and --trainer.devices must match --nnodes and --nproc-per-node.
set -euo pipefail
NNODES=${NNODES:-1}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(nvidia-smi --list-gpus | wc -l)}

torchrun \
    --nnodes="${NNODES}" \
    --nproc-per-node="${GPUS_PER_NODE}" \
    --node-rank="${NODE_RANK:-0}" \
    --master-addr="${HEAD_ADDR:-127.0.0.1}" \
    --master-port="${HEAD_PORT:-29500}" \
    -m lit_gpt2 fit \
    --config configs/ddp.yaml \
    --trainer.num_nodes="${NNODES}" \
    --trainer.devices="${GPUS_PER_NODE}" \
    "$@"
