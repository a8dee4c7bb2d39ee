"""History: the SQLite store and the novelty diff."""
