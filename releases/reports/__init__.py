"""Reads that sum up the portal: the public transparency report and the maintainers' overview."""
