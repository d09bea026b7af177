"""Commission periods, the ledger (close and reopen), statements and the payroll export."""
