"""Scanning a seizure: the pipeline, its worker processes, and re-verifying evidence."""
