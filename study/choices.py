"""Names the command line offers, kept free of heavy imports so `lpmac --help` stays fast."""

MODELS = ("mlp", "cnn")
EDGE_ROUNDING = ("rne", "rz", "sr")
DIGITS = "digits"
