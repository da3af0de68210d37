"""Kiosk cold start (not a test: prints numbers): from launching a fresh Python process to the first frame
of the home screen on the window, and the kiosk's resident memory (RSS) then — with the demo hall's kiosk-01
profile, its ID reader simulator running, a real broker on loopback, and no face model loaded (the face
check-in loads its models on first use). Offscreen through Mesa EGL when there is no display.

    python -m bench.kiosk_start [--runs 3] [--device kiosk-01] [--size 1080x1920]

Both ways a board can start the kiosk are measured: `python -m kiosk.terminal` and `hallq kiosk` (whose CLI
imports every other subcommand too).

Targets (issue 6): first screen ≤ 3 s, ≤ 300 MB without face models.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "firmware_config" / "halls" / "demo"


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child(device: str, secret: Path, port: int, size: str, cache: Path, launched: float, entry: str) -> None:
    """The kiosk process: start it as `hallq kiosk` (or `python -m kiosk.terminal`) does, report at the first
    frame on the window, exit."""
    if entry == "hallq":
        import hallserver.cli  # noqa: F401 - what `hallq kiosk` imports before it runs the kiosk
    else:
        import kiosk.terminal.cli
    from kiosk.ui.cli import window_size
    from kiosk.ui.device import load_device
    from kiosk.ui.setup import prepare

    setup = load_device(device, ("kiosk",), DEMO, secret, "127.0.0.1", port)
    prepare(*window_size(size, (1080, 1920)))
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.terminal.app import KioskApp, on_ui, thread_runner
    from kiosk.terminal.assemble import build_kiosk

    kiosk = build_kiosk(setup, cache, runner=thread_runner, post=on_ui)
    app = KioskApp(kiosk.flows, kiosk.service, kiosk.cards)

    def first_flip(*_: object) -> None:
        if app.root is None or app.root.parent is None or not app.root.content.children:
            return  # a frame before the home screen was on the window
        Window.unbind(on_flip=first_flip)
        figures: dict[str, object] = {"first_frame_s": time.time() - launched, "screen": kiosk.flows.state.screen}
        rss, peak = _rss_mb()
        figures.update(rss_mb=rss, peak_mb=peak)
        figures["face_loaded"] = any(m.startswith(("kiosk.face.", "dlib", "face_recognition")) for m in sys.modules)
        catalog = kiosk.cache.current
        started = time.perf_counter()
        figures["hits"] = len(catalog.search("jzz")) if catalog else 0  # the first pinyin search builds the index
        figures["first_search_s"] = time.perf_counter() - started
        figures["rss_after_search_mb"] = _rss_mb()[0]
        print(json.dumps(figures), flush=True)
        Clock.schedule_once(lambda _dt: app.stop(), 0.2)

    Window.bind(on_flip=first_flip)
    app.run()


def run_once(device: str, secret: Path, port: int, size: str, cache: Path, entry: str) -> dict[str, float]:
    """Launch one kiosk process and read its figures."""
    env = {**os.environ, "KIVY_NO_CONSOLELOG": "1", "HALLQ_LOG_LEVEL": "warning"}
    launched = time.time()
    args = ["--child", "--device", device, "--secret", str(secret), "--port", str(port), "--size", size]
    args += ["--cache", str(cache), "--launched", repr(launched), "--entry", entry]
    done = subprocess.run(
        [sys.executable, "-m", "bench.kiosk_start", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"kiosk process failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1]))


def report(label: str, results: list[dict[str, float]]) -> None:
    """Print the figures of one way of starting the kiosk."""
    starts = [r["first_frame_s"] for r in results]
    rss = [r["rss_mb"] for r in results]
    searched = [r["rss_after_search_mb"] for r in results]
    print(f"  {label}")
    print(
        f"    process start → first screen drawn: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s"
        "  (target ≤ 3 s)"
    )
    print(
        f"    resident memory at first screen:    median {statistics.median(rss):.0f} MB"
        "  (target ≤ 300 MB, no face models)"
    )
    print(
        f"    first pinyin search builds index:   {statistics.median(r['first_search_s'] for r in results):.2f} s,"
        f" RSS then {statistics.median(searched):.0f} MB"
    )
    print(f"    face models loaded at start:        {'yes' if any(r['face_loaded'] for r in results) else 'no'}")
    print(f"    runs: {', '.join(f'{s:.2f} s' for s in starts)}")


def main() -> None:
    """Start the kiosk a few times, both ways, against a loopback broker and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--device", default="kiosk-01")
    parser.add_argument("--size", default="1080x1920")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--secret", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--launched", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--entry", default="module", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.device, args.secret, args.port, args.size, args.cache, args.launched, args.entry)
        return
    from bench.loopback import loopback_hall

    print(
        f"kiosk cold start ({args.device}, {args.size}, {args.runs} runs each, offscreen; catalog cached after run 1)"
    )
    with loopback_hall() as hall, tempfile.TemporaryDirectory(prefix="hallq-kiosk-bench-") as tmp:
        cache = Path(tmp) / "cache"
        for entry, label in (
            ("module", "python -m kiosk.terminal"),
            ("hallq", "hallq kiosk (imports every subcommand)"),
        ):
            results = [
                run_once(args.device, hall.secret, hall.broker.port, args.size, cache, entry) for _ in range(args.runs)
            ]
            report(label, results)


if __name__ == "__main__":
    main()
