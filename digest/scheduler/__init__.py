"""The scheduler service: fires runs on the schedule, one scheduler per database."""

from __future__ import annotations

from .service import Scheduler, scheduled_run

__all__ = ["Scheduler", "scheduled_run"]
