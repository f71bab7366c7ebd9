"""The README stays true: every setting is documented, the two commands are there, CI runs the test command."""
from pathlib import Path

from tipqa.config import setting_names

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in setting_names():
        assert f"TIPQA_{name.upper()}" in readme, name


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme and "make app" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
