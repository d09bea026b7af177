"""What every part of the warehouse shares: where things live (settings), the warehouse's write lock,
and how a command-line process ends."""
