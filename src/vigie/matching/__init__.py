"""Matching: signal types, hash-list readers, the PDQ index, and matching a case against its lists."""
