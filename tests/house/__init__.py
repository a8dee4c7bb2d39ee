"""The house rules: lint, types, the layer contract, the benchmarks' smoke run."""
