"""Data-quality suites (Great Expectations 1.x) run on the rows of the current load."""
