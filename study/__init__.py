"""Training under a MAC configuration (SPEC §8) and resource–accuracy studies."""
