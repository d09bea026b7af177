"""`spm bench`: where the time and memory go, on a generated company (see run.py)."""
