"""`tutormesh user delete|passwd|import`: the console's account verbs on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import PASSWORD
from tests.integration.live import run_cli

pytestmark = pytest.mark.integration


def test_import_checks_every_row_then_applies_passwd_and_delete(tmp_path: Path) -> None:
    data = tmp_path / "data"
    roster = tmp_path / "roster.csv"
    roster.write_text("username,role,cohort\nana,student,9a\nbad name,student,9a\nms-rao,teacher,\n", encoding="utf-8")
    checked = run_cli(data, "user", "import", str(roster), "--apply")
    assert checked.returncode == 1
    assert "line 3: bad name: username:" in checked.stderr and "line 4: ms-rao: cohort: required" in checked.stderr
    assert "nothing imported" in checked.stderr
    assert "ana" not in run_cli(data, "user", "list").stdout

    roster.write_text("username,role,cohort\nana,student,9a\nms-rao,teacher,9a\npool,tutor,9a\n", encoding="utf-8")
    dry = run_cli(data, "user", "import", str(roster))
    assert dry.returncode == 0 and "3 rows are valid (dry run" in dry.stdout
    assert "ana" not in run_cli(data, "user", "list").stdout
    applied = run_cli(data, "user", "import", str(roster), "--apply")
    assert applied.returncode == 0 and applied.stdout.count('"password"') == 3, applied.stderr
    listing = run_cli(data, "user", "list", "--role", "tutor").stdout
    assert "pool" in listing and "tutor" in listing

    weak = run_cli(data, "user", "passwd", "ana", env={"TUTORMESH_PASSWORD": "short"})
    assert weak.returncode == 1 and "8 to 256" in weak.stderr
    changed = run_cli(data, "user", "passwd", "ana", env={"TUTORMESH_PASSWORD": PASSWORD})
    assert changed.returncode == 0 and "password changed for ana" in changed.stdout
    assert run_cli(data, "user", "passwd", "nobody", env={"TUTORMESH_PASSWORD": PASSWORD}).returncode == 1
    deleted = run_cli(data, "user", "delete", "ana")
    assert deleted.returncode == 0 and "learner data erased" in deleted.stdout
    assert "ana" not in run_cli(data, "user", "list").stdout
    missing = run_cli(data, "user", "delete", "ana")
    assert missing.returncode == 1 and "no user 'ana'" in missing.stderr
