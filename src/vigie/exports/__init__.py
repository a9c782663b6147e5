"""Reports and exports, read from the case store."""
