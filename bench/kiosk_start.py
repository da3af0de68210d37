"""Kiosk cold start (not a test: prints numbers): from launching a fresh Python process to the first frame
of the home screen on the window, and the kiosk's resident memory (RSS) then — with the demo hall's kiosk-01
profile, its ID reader simulator running, a real broker on loopback, and no face model loaded (the face
check-in loads its models on first use). Offscreen through Mesa EGL when there is no display.

    python -m bench.kiosk_start [--runs 3] [--device kiosk-01] [--size 1080x1920]

Both ways a board can start the kiosk are measured, each running the real command with the demo hall folder:
`python -m kiosk.terminal` and `hallq kiosk` (the umbrella CLI, which imports only the subcommand it runs).

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
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "firmware_config" / "halls" / "demo"
# Big packages a kiosk need not load before it is used: reported when they are in memory at the first frame.
HEAVY = {"numpy", "cv2", "escpos", "PIL", "pypinyin", "jieba", "dlib", "face_recognition", "fastapi", "sqlalchemy"}


def _rss_mb() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def child(device: str, secret: Path, port: int, size: str, cache: Path, launched: float, entry: str) -> None:
    """The kiosk process: run the real command — `hallq kiosk` through the umbrella CLI, or the kiosk command
    alone as `python -m kiosk.terminal` does —, report at the first frame of the home screen, exit."""
    import typer

    args = ["--device", device, "--hall-dir", str(DEMO), "--secret-dir", str(secret)]
    args += ["--broker-host", "127.0.0.1", "--broker-port", str(port), "--size", size, "--windowed"]
    args += ["--cache-dir", str(cache)]
    if entry == "hallq":
        from hallq.cli import main

        command: Any = main

        args = ["kiosk", *args]
    else:
        from kiosk.terminal.cli import kiosk_command

        single = typer.Typer(add_completion=False)  # what typer.run() builds in kiosk/terminal/__main__.py
        single.command()(kiosk_command)
        command = typer.main.get_command(single)
    import kiosk.ui.setup as ui_setup

    prepare = ui_setup.prepare

    def prepared(*a: Any, **kw: Any) -> Any:
        font = prepare(*a, **kw)
        from kivy.clock import Clock

        Clock.schedule_once(lambda _dt: _watch_first_frame(launched), 0)
        return font

    ui_setup.prepare = prepared
    command.main(args, prog_name="hallq", standalone_mode=False)


def _watch_first_frame(launched: float) -> None:
    """Once the home screen is on the window: print the figures as JSON, run one search, stop the app."""
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    app: Any = App.get_running_app()

    def first_flip(*_: object) -> None:
        if app.root is None or app.root.parent is None or not app.root.content.children:
            return  # a frame before the home screen was on the window
        Window.unbind(on_flip=first_flip)
        figures: dict[str, object] = {"first_frame_s": time.time() - launched, "screen": app.flows.state.screen}
        rss, peak = _rss_mb()
        figures.update(rss_mb=rss, peak_mb=peak)
        figures["face_loaded"] = any(m.startswith(("kiosk.face.", "dlib", "face_recognition")) for m in sys.modules)
        figures["heavy_modules"] = sorted({m.split(".")[0] for m in sys.modules} & HEAVY)
        catalog = app.flows.catalog.current
        started = time.perf_counter()
        figures["hits"] = len(catalog.search("jzz")) if catalog else 0  # the first pinyin search builds the index
        figures["first_search_s"] = time.perf_counter() - started
        figures["rss_after_search_mb"] = _rss_mb()[0]
        print(json.dumps(figures), flush=True)
        Clock.schedule_once(lambda _dt: app.stop(), 0.2)

    Window.bind(on_flip=first_flip)


def run_once(device: str, secret: Path, port: int, size: str, cache: Path, entry: str) -> dict[str, Any]:
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


def report(label: str, results: list[dict[str, Any]]) -> None:
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
        f" RSS then {statistics.median(searched):.0f} MB  (target ≤ 300 MB)"
    )
    heavy = sorted({m for r in results for m in r.get("heavy_modules", [])})
    print(f"    heavy packages loaded at start:     {', '.join(heavy) or 'none'}")
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
            ("hallq", "hallq kiosk"),
        ):
            results = [
                run_once(args.device, hall.secret, hall.broker.port, args.size, cache, entry) for _ in range(args.runs)
            ]
            report(label, results)


if __name__ == "__main__":
    main()
