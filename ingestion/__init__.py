"""dlt sources for the sales-performance warehouse.

One source per system (CRM, HRIS, surveys, sales plan). Each reads either the landing folder
(the embedded default: files in the shapes the live APIs return) or the live API, and yields
Arrow tables so bulk loads never loop over rows in Python.
"""
