"""Figures: what a team logs each month (lead log entries, closed customers,
measurements), the registry of figure kinds, their pages, API and CSV import."""
