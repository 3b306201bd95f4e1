"""Readers turn files into records plus diagnostics; they never raise for a user's mistake."""
