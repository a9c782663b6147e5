"""Vigie: forensic triage of seized imagery."""

__version__ = "0.1.0"
