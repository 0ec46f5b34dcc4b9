"""Scanning repositories for licenses: which files matter, the pipeline, and the verdict."""
