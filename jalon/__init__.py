"""Jalon: decision support for job-seeker segmentation (command line and configuration)."""

__version__ = "0.1.0"
