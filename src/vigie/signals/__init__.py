"""Signals: pure functions from an item's bytes to findings (hashes, image facts)."""
