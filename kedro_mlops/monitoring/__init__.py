"""Monitoring of a served model: its traffic, and how well it performs."""
