"""The pipeline: runs, the newsletter, delivery, alerts, locks."""
