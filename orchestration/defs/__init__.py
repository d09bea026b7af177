"""The asset graph, one module per concern; ``orchestration.definitions`` merges them."""
