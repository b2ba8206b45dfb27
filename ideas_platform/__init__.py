"""Participatory idea and voting platform."""

__version__ = "0.1.0"
