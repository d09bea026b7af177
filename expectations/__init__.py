"""Great Expectations suites (``*.json`` with a SQL frame each) and the code that validates them."""
