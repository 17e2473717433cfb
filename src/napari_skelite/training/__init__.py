"""Training of the Skelite weights: synthetic data, losses, distillation loop (torch + numpy only)."""
