"""Render every kiosk screen to PNG — portrait and landscape, standard and 大字版 (elderly), day and 24-hour
(after hours) — with the sample data of kiosk.terminal.showcase (no hall server needed). Not part of
`make test`: run it, then look at the pictures.

    .venv/bin/python scripts/render_screens.py [--out var/screens] [--only 08-ticket] [--scale 0.5]

It also prints what kiosk.ui.access finds wrong in 大字版 (sizes, touch targets, line spacing, contrast).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONE = ZoneInfo("Asia/Shanghai")
MOMENTS = {
    "day": datetime(2026, 11, 23, 10, 0, tzinfo=ZONE),  # a Monday morning
    "24h": datetime(2026, 11, 22, 20, 30, tzinfo=ZONE),  # Sunday evening: the hall is closed
}
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screens")
    parser.add_argument("--only", help="render only scenarios whose name contains this")
    parser.add_argument("--scale", type=float, default=1.0, help="window size factor (0.5: a desk's half window)")
    parser.add_argument("--hall-dir", type=Path, default=ROOT / "firmware_config" / "halls" / "demo")
    args = parser.parse_args()

    from kiosk.ui.setup import open_window, prepare, resize, screenshot

    prepare(1920, 1920, kivy_home=Path(tempfile.mkdtemp(prefix="hallq-kivy-render-")))
    window = open_window()
    from kivy.base import EventLoop

    from kiosk.terminal.app import KioskUi
    from kiosk.terminal.showcase import SCENARIOS, play, sample_flows
    from kiosk.ui.access import audit

    def pump(frames: int = 3) -> None:
        for _ in range(frames):
            EventLoop.idle()

    problems = 0
    written = 0
    for mode, now in MOMENTS.items():
        cache = Path(tempfile.mkdtemp(prefix="hallq-render-cache-"))
        flows, bus = sample_flows(args.hall_dir, cache, now, twenty_four_hour=mode == "24h")
        ui = KioskUi(flows, bus)  # type: ignore[arg-type]
        for orientation, (w, h) in SIZES.items():
            size = (int(w * args.scale), int(h * args.scale))
            for child in list(window.children):
                window.remove_widget(child)
            resize(*size)
            window.add_widget(ui.view)
            pump()
            for elderly in (False, True):
                flows.session.elderly = elderly
                for name, steps in SCENARIOS.items():
                    if args.only and args.only not in name:
                        continue
                    play(flows, bus, steps)
                    ui.view.show(flows.state, force=True)
                    ui.tick()
                    pump(4)
                    label = f"{mode}-{orientation}-{'elderly' if elderly else 'standard'}-{name}"
                    screenshot(args.out / f"{label}.png")
                    written += 1
                    if elderly:
                        for problem in audit(ui.view):
                            problems += 1
                            print(f"{label}: {problem}")
                # the time-out warning, over a step in progress
                if not args.only or "timeout" in args.only:
                    play(flows, bus, SCENARIOS["07-confirm"])
                    flows.session.last_touch -= flows.session.idle_timeout_s - 12
                    ui.view.show(flows.state, force=True)
                    ui.tick()
                    pump(4)
                    label = f"{mode}-{orientation}-{'elderly' if elderly else 'standard'}-28-timeout-warning"
                    screenshot(args.out / f"{label}.png")
                    written += 1
            flows.session.elderly = False
        ui.close()
    print(f"{written} screens in {args.out}; {problems} 大字版 problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
