"""The scheduler: triggers, catch-up, one scheduler per database."""
