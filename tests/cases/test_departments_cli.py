"""`hallq departments`: register a department system, rotate (two secrets valid), retire, tokens; the store
is 0600 and keeps tokens only as hashes; mistakes get a Chinese message and exit code 1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hallserver.cli.departments import departments_app
from hallserver.services import departments


def _run(args: list[str], secret_dir: Path) -> tuple[int, str]:
    result = CliRunner().invoke(departments_app, args, env={"HALLQ_SECRET_DIR": str(secret_dir)})
    return result.exit_code, result.output


def _secret(output: str) -> str:
    found = re.search(r"(whsec_[A-Za-z0-9_\-]+)", output)
    assert found, output
    return found.group(1)


def test_register_rotate_retire_and_tokens(tmp_path: Path) -> None:
    code, out = _run(["add", "gongan", "市公安局"], tmp_path)
    assert code == 0
    first = _secret(out)
    code, out = _run(["rotate", "gongan"], tmp_path)
    second = _secret(out)
    assert departments.load(tmp_path)["gongan"].secrets == (second, first)  # both valid during the rotation
    assert _run(["retire", "gongan"], tmp_path)[0] == 0
    assert departments.load(tmp_path)["gongan"].secrets == (second,)
    code, out = _run(["token", "gongan"], tmp_path)
    token = out.strip().rsplit(" ", 1)[-1]
    store = tmp_path / departments.DEPARTMENTS_FILE
    assert token.startswith("dept_") and token not in store.read_text(encoding="utf-8")
    assert departments.by_token(departments.load(tmp_path), token).code == "gongan"
    assert store.stat().st_mode & 0o777 == 0o600
    assert json.loads(store.read_text(encoding="utf-8"))["departments"]["gongan"]["name"] == "市公安局"
    assert "gongan\t市公安局\t1 secret(s)\t1 token(s)" in _run(["list"], tmp_path)[1]
    assert _run(["revoke-tokens", "gongan"], tmp_path)[0] == 0
    with pytest.raises(departments.DepartmentAuthError):
        departments.by_token(departments.load(tmp_path), token)


def test_mistakes_are_refused_in_chinese(tmp_path: Path) -> None:
    assert _run(["add", "gongan", "市公安局"], tmp_path)[0] == 0
    code, out = _run(["add", "gongan", "市公安局"], tmp_path)
    assert code == 1 and "已登记" in out
    code, out = _run(["rotate", "nobody"], tmp_path)
    assert code == 1 and "没有登记部门代码" in out
    code, out = _run(["add", "Bad Code", "某部门"], tmp_path)
    assert code == 1 and "部门代码" in out
