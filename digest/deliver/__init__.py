"""Deliver: the send ledger and the backends that hand messages to the world."""
