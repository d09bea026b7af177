"""The error a user can act on, said in one line (``spm report`` prints it, exit status 2)."""


class ReportError(Exception):
    """The pack cannot be made: a bad month, no data for it, no serving file, an unwritable folder."""


class NoDataError(ReportError):
    """The serving file holds no data for the month asked for."""


class PackWriteError(ReportError):
    """The pack's folder cannot be written (no room, no permission, not a folder)."""
