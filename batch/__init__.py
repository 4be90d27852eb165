"""Batch application: file scoring with explanations and the milestone review."""
