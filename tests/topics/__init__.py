"""Topics: filters, ranking, reasons."""
