"""Sales-performance warehouse: command line, settings and the synthetic company generator."""
