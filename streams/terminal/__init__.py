"""Terminal and customs feeds turned into normalised container events on the `terminal` topic."""
