"""End to end: the installed `digest` in real processes against servers on 127.0.0.1."""
