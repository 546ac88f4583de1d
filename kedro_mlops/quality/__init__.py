"""The model's quality, measured in the training run: tuning (nested runs)."""
