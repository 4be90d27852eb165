"""Ground layer: configuration, errors, named thresholds, French formatting, age bands."""
