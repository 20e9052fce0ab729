"""Platform adapters: one folder (or module) per platform, each with the same inner shape where it can."""
