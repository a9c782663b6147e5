"""Disk images read in place: one module per job, behind `sources/diskimage.py` (the source and its path
grammar)."""
