"""Reporters: pure functions from a list of RunReports to text; the CLI writes it."""
