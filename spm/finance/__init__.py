"""Finance operations on the commission ledger: period close and reopen, statements, payroll export."""
