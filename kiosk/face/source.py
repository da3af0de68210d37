"""The FrameSource interface (re-exported by kiosk.face.capture)."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class FrameSource(ABC):
    """Where check-in frames come from; read() blocks like a camera and returns a BGR array, or None."""

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next BGR frame, or None when there is none (camera error, end of file)."""

    @abstractmethod
    def close(self) -> None:
        """Release the device or file."""

    def __enter__(self) -> FrameSource:
        """Use as a context manager."""
        return self

    def __exit__(self, *_exc: object) -> None:
        """Close on leaving the block."""
        self.close()
