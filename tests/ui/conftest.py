"""UI tests: the offscreen Kivy stage (a missing Mesa/EGL is a failure that says what to install)."""

from tests.ui.stage import stage

__all__ = ["stage"]
