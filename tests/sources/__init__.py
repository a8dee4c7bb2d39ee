"""Sources: fetching and every parser, on recorded pages."""
