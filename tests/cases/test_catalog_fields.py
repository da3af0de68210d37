"""The catalog's case-life fields: what happens when a 补正/容缺 deadline passes (per item, with the hall's
default in hall.yaml) and the 告知承诺制 flag; the checker refuses wrong values naming file, item and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from firmware_config.hall import LapseOutcome, ProfileError, load_hall_profile
from hallcore.catalog.loader import load_catalog
from tests.conftest import DEMO_HALL
from tests.unit.test_catalog import _copy, _edit, _problems

ITEM = "11440300MB2D41730K000172102000000"


def _residence(copy: Path, **fields: object) -> None:
    def change(d: dict[str, object]) -> None:
        item = next(i for i in d["items"] if i["code"] == ITEM)  # type: ignore[attr-defined]
        item.update(fields)

    _edit(copy / "residence.yaml", change)


def test_demo_catalog_carries_the_fields() -> None:
    item = load_catalog(DEMO_HALL / "catalog").items[ITEM]
    assert item.on_deadline_lapse == LapseOutcome.suspended
    assert item.gaozhi_chengnuo is not None and item.gaozhi_chengnuo.verify_days == 20
    assert "撤销" in item.gaozhi_chengnuo.liability


def test_unknown_lapse_outcome_is_refused(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _residence(copy, on_deadline_lapse="自动通过")
    (problem,) = _problems(copy)
    assert problem.startswith("residence.yaml: 事项 11440300MB2D41730K000172102000000（居住证申领）")
    assert "字段 on_deadline_lapse" in problem and "视为撤回" in problem


def test_commitment_needs_the_liability_and_a_review_item(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    _residence(copy, gaozhi_chengnuo={"verify_days": 20})
    (problem,) = _problems(copy)
    assert "字段 gaozhi_chengnuo.liability" in problem

    copy2 = _copy(tmp_path / "b")
    _residence(copy2, time_limit={"statutory_days": 15, "promised_days": 0})
    assert any("告知承诺制事项须为承诺件" in p for p in _problems(copy2))


def test_hall_default_is_validated(tmp_path: Path) -> None:
    hall = tmp_path / "hall.yaml"
    shutil.copy(DEMO_HALL / "hall.yaml", hall)
    raw = yaml.safe_load(hall.read_text(encoding="utf-8"))
    raw.setdefault("cases", {})["on_deadline_lapse"] = "不予批准"
    hall.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert load_hall_profile(hall).cases.on_deadline_lapse == LapseOutcome.denied
    raw["cases"]["on_deadline_lapse"] = "随便"
    hall.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProfileError) as refused:
        load_hall_profile(hall)
    assert "on_deadline_lapse" in str(refused.value)
