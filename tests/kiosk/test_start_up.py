"""What a kiosk board pays at start: the device commands' modules import without profiles, settings, the bus
or Kivy (their --help stays quick), and the kiosk's pinyin index is the same without pypinyin's phrase table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hallcore.catalog.loader import load_catalog
from hallcore.catalog.search import CatalogSearch
from tests.conftest import DEMO_HALL

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("kivy", "firmware_config.devices", "pydantic_settings", "broker.client", "pypinyin", "numpy", "escpos")


def test_the_device_commands_import_nothing_heavy() -> None:
    script = (
        "import sys, kiosk.terminal.cli, kiosk.display.cli, kiosk.evaluator.cli\n"
        f"print([m for m in sys.modules if m.startswith({HEAVY!r})])"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def _readings_script() -> str:
    return (
        "import json; from pathlib import Path\n"
        "from hallcore.catalog.loader import load_catalog\n"
        "from hallcore.catalog.search import CatalogSearch\n"
        f"index = CatalogSearch(load_catalog(Path({str(DEMO_HALL / 'catalog')!r})))\n"
        "print(json.dumps([[sorted(sorted(r) for r in t) for t in e.readings] for e in index._entries]))"
    )


def test_the_search_index_needs_no_phrase_table() -> None:
    """The kiosk command sets PYPINYIN_NO_PHRASES (44 MB less): every character keeps all its readings."""
    env = {**os.environ, "PYPINYIN_NO_PHRASES": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _readings_script()], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    index = CatalogSearch(load_catalog(DEMO_HALL / "catalog"))
    assert json.loads(done.stdout) == [[sorted(sorted(r) for r in t) for t in e.readings] for e in index._entries]
