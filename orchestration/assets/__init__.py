"""Asset definitions, one module per concern."""
