"""The camera simulator and open_source: files in order, hold, loop, pacing, jitter, specs."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.face.camera_sim import ASSETS, ImageSequenceSource, Jitter, SimClock, preset_paths, tilt
from kiosk.face.capture import CameraSource, FrameSource, VideoFileSource, open_source
from kiosk.face.verify import decode_photo


def colour_files(tmp_path: Path, colours: list[int]) -> list[Path]:
    """Small solid-colour PNGs whose blue channel tells which file a frame came from."""
    paths = []
    for i, blue in enumerate(colours):
        path = tmp_path / f"{i:02d}.png"
        cv2.imwrite(str(path), np.full((48, 64, 3), (blue, 0, 0), np.uint8))
        paths.append(path)
    return paths


def frame_of(source: FrameSource) -> np.ndarray:
    """The next frame, which must be there."""
    frame = source.read()
    assert frame is not None
    return frame


def blues(source: FrameSource, n: int) -> list[int | None]:
    """The blue value of n frames read (None for no frame)."""
    out: list[int | None] = []
    for _ in range(n):
        frame = source.read()
        out.append(None if frame is None else int(frame[0, 0, 0]))
    return out


def test_plays_files_in_order_holds_and_loops(tmp_path: Path) -> None:
    """Each file is held `hold` frames, then the sequence starts again."""
    source = ImageSequenceSource(colour_files(tmp_path, [10, 20, 30]), fps=0, hold=2)
    assert blues(source, 8) == [10, 10, 20, 20, 30, 30, 10, 10]


def test_without_loop_the_sequence_ends(tmp_path: Path) -> None:
    """A non-looping sequence returns None after its last frame, and after close()."""
    source = ImageSequenceSource(colour_files(tmp_path, [10, 20]), fps=0, loop=False)
    assert blues(source, 3) == [10, 20, None]
    source.close()
    assert source.read() is None


def test_frames_are_paced_at_the_set_fps(tmp_path: Path) -> None:
    """read() waits for each frame like a camera: 12.5 fps is one frame per 80 ms of the clock."""
    clock = SimClock(100.0)
    source = ImageSequenceSource(colour_files(tmp_path, [10]), fps=12.5, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(5):
        source.read()
        times.append(clock())
    assert np.allclose(np.diff(times), 0.08)


def test_frames_are_copies(tmp_path: Path) -> None:
    """A caller scribbling on a frame does not change the next loop of the simulator."""
    source = ImageSequenceSource(colour_files(tmp_path, [10]), fps=0)
    first = source.read()
    assert first is not None
    first[:] = 0
    assert blues(source, 1) == [10]


def test_jitter_moves_the_photo_deterministically() -> None:
    """Jitter changes every frame of a still photo, the same way for the same seed."""
    paths = preset_paths("photo")
    a = ImageSequenceSource(paths, fps=0, jitter=Jitter(seed=5))
    b = ImageSequenceSource(paths, fps=0, jitter=Jitter(seed=5))
    still = frame_of(ImageSequenceSource(paths, fps=0))
    frames = [frame_of(a) for _ in range(3)]
    assert all(f.shape == still.shape and not np.array_equal(f, still) for f in frames)
    assert not np.array_equal(frames[0], frames[1])
    assert all(np.array_equal(f, frame_of(b)) for f in frames)


def test_tilt_narrows_a_print_turned_away() -> None:
    """A print turned about its vertical axis: a stripe near its receding edge moves towards the centre."""
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, 178:182] = 255
    stripe = np.flatnonzero(tilt(frame, 40)[50, :, 0] > 127)
    assert stripe.size and 100 < stripe.mean() < 170


def test_open_source_specs(tmp_path: Path) -> None:
    """A folder, a comma list, a single image and a preset all open as image sequences."""
    files = colour_files(tmp_path, [10, 20])
    assert blues(open_source(str(tmp_path), fps=0), 3) == [10, 20, 10]
    assert blues(open_source(f"{files[1]}, {files[0]}", fps=0, loop=False), 3) == [20, 10, None]
    assert blues(open_source(str(files[0]), fps=0), 2) == [10, 10]
    frame = open_source("sim:live_left", fps=0).read()
    assert frame is not None and frame.shape == (480, 640, 3)


def test_open_source_rejects_unknown_specs(tmp_path: Path) -> None:
    """Missing paths and unknown presets fail with a clear error."""
    with pytest.raises(ValueError, match="no camera"):
        open_source(str(tmp_path / "missing.mp4"))
    with pytest.raises(ValueError, match="unknown camera preset"):
        open_source("sim:nobody")


def test_video_file_plays_and_loops(tmp_path: Path) -> None:
    """A video file is a FrameSource too; looping rewinds at the end."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10, (64, 48))
    for blue in (40, 200):
        writer.write(np.full((48, 64, 3), (blue, 0, 0), np.uint8))
    writer.release()
    once = open_source(str(path), loop=False)
    assert isinstance(once, VideoFileSource)
    values = blues(once, 3)
    assert values[2] is None and values[0] is not None and values[1] is not None and values[0] < values[1]
    looping = open_source(str(path), loop=True)
    assert [v is not None for v in blues(looping, 5)] == [True] * 5
    looping.close()


def test_a_missing_camera_fails_clearly() -> None:
    """No device at an index: an OSError naming the camera, not a source that yields nothing."""
    with pytest.raises(OSError, match="camera 97"):
        CameraSource(97)


def test_a_folder_with_a_playlist_plays_it(tmp_path: Path) -> None:
    """playlist.txt: files in its order, each for its frame count; comments and blank lines are skipped."""
    colour_files(tmp_path, [10, 20])
    (tmp_path / "playlist.txt").write_text("# demo\n01.png 2\n\n00.png  # once\n", encoding="utf-8")
    assert blues(open_source(str(tmp_path), fps=0), 4) == [20, 20, 10, 20]
    (tmp_path / "playlist.txt").write_text("01.png twice\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"playlist\.txt:1"):
        open_source(str(tmp_path))


def test_the_stock_folder_plays_the_demo_sequence() -> None:
    """The demo kiosk's camera spec (the stock folder) starts with two seconds of the frontal frame."""
    source = open_source(str(ASSETS), fps=0)
    front = decode_photo((ASSETS / "cam_obama_front.jpg").read_bytes())
    assert front is not None
    frames = [frame_of(source) for _ in range(21)]
    assert all(np.array_equal(f, front) for f in frames[:20]) and not np.array_equal(frames[20], front)
