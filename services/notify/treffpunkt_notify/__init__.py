"""The notify service: every email, exactly once."""
