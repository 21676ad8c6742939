"""What an analyst does with campaigns: decisions, enforcement lists, the watchlist."""
