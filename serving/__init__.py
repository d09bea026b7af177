"""Serving: the validated, BI-facing tables published where BI tools can read them."""
