"""Printing in the hall: documents, ESC/POS layout, the printer agent, a byte-level simulator and decoder."""
