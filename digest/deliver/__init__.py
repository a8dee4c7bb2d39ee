"""Deliver: hand rendered messages to a transport (Maildir on disk, or an SMTP relay).

``outbox`` drains the delivery ledger kept in history; ``maildir`` and ``smtp``
are the transports. A transport only moves bytes; what was sent to whom is
the ledger's business.
"""
