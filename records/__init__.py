"""Records layer: the decisions store, its migrations and every table of the records."""
