"""The hall server: catalog, calendar, tickets and window allocation behind a REST API."""

__version__ = "0.1.0"
