"""Core records and rules: identity, configuration."""
