"""Plain-Python engines of the support desk, called by its models (see ``clock``)."""
