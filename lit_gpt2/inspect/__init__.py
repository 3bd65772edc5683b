"""The model's insides: the eager attention probe, attention statistics and rollout, head scores, the logit
lens and surprisal (pure functions on tensors, and the passes that feed them), and the model's anatomy
(component tree, parameter breakdown) with the architecture report built from it."""
