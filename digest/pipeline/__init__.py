"""The pipeline: one run from sources to readers, and the operations around it.

``run.run`` fetches every source (``ingest``), diffs against history, publishes
the feeds (``publish``, ``archives``, ``selection``), writes the digest, queues
each reader's mail (``newsletter``) and drains the outbox (``drain``), which has
each message composed as it is sent (``compose``). ``runtime`` builds the I/O a
run needs; ``locks`` keeps runs from overlapping; ``alerts``, ``staleness``,
``backfill``, ``readers`` and ``schedule`` are the operator's side. The stages
it calls (sources, history, topics, render, deliver) never call back up here.
"""
