"""Benign demo seizures, drawn by the code itself."""
