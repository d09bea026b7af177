"""The ``spm`` command line: on top of the project, importing the rest; nothing imports it."""
