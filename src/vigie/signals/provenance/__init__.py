"""Provenance: deterministic marks of how content was made (C2PA manifests so far)."""
