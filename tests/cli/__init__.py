"""The command line, through click's runner and real processes."""
