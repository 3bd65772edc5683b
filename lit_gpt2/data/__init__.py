"""Movie-script data: sources, screenplay normalisation, script-level split, packing, the embedded corpus."""
