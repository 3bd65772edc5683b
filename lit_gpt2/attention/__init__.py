"""Attention analysis: an eager probe, statistics, rollout and head classes as pure functions on tensors."""
