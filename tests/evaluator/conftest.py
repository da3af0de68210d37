"""Evaluator tests share the offscreen Kivy stage of the UI tests."""

from tests.ui.stage import stage

__all__ = ["stage"]
