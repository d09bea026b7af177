"""The monthly pack: a self-contained HTML report (and its PDF) of one month, read from the
serving file BI tools read (``serving.duckdb``), never from the warehouse.

- :mod:`reporting.queries` picks the month's rows from the published marts (every figure is a
  mart's; nothing is recomputed in Python);
- :mod:`reporting.formatting` writes money, rates and counts for people;
- :mod:`reporting.charts` draws the charts with Altair (Vega-Lite) as static SVG (vl-convert);
- :mod:`reporting.html` fills the page, :mod:`reporting.pdf` prints it with WeasyPrint;
- :mod:`reporting.pack` ties them together (``spm report`` and the ``monthly_pack`` asset).
"""

from reporting.errors import ReportError

__all__ = ["ReportError"]
