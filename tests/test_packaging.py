"""An installed, non-editable Digest finds its templates and migrations."""

from __future__ import annotations

import re
import tomllib
import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_carries_templates_and_migrations(tmp_path: Path) -> None:
    built = list(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"]))
    names = set(zipfile.ZipFile(built[0]).namelist())
    for template in (ROOT / "templates").rglob("*.j2"):
        assert f"digest/templates/{template.relative_to(ROOT / 'templates')}" in names
    assert "digest/store/migrations/env.py" in names
    assert "digest/store/migrations/versions/0001_initial_schema.py" in names
    assert "digest/store/migrations/versions/0002_sources_health_and_clusters.py" in names
    assert "digest/store/migrations/versions/0003_send_ledger_batches.py" in names
    assert "digest/store/migrations/versions/0004_audience_web.py" in names
    assert "digest/store/migrations/versions/0005_article_signatures.py" in names
    assert "digest/store/migrations/versions/0006_editor_choices.py" in names
    assert any(n.startswith("subscribers/") for n in names)
    assert not any(n.startswith(("tests/", "examples/")) for n in names)


def test_the_distribution_has_a_name_of_its_own() -> None:
    """`digest` on PyPI is someone else's project: an install hint naming it would install
    a stranger's package. The import package and the command stay `digest`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "digest-newsletter"
    assert project["scripts"] == {"digest": "digest.cli:main"}
    assert "postgres" in project["optional-dependencies"]
    hints = re.compile(r"pip install\s+['\"]?(?!\.|digest-newsletter)[\w-]*digest\b")
    for path in [ROOT / "README.md", ROOT / "CHANGELOG.md", *(ROOT / "digest").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not hints.search(text), f"{path} tells people to install another package"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install 'digest-newsletter[postgres]'" in readme


def test_the_default_test_run_includes_the_slow_trials() -> None:
    """`.ci/run` calls the README's `pytest`: the slow trials run only if it selects them."""
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    addopts = pytest_options["tool"]["pytest"]["ini_options"]["addopts"]
    assert not any(option.startswith("-m") for option in addopts), addopts
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.rstrip().endswith("pip install --quiet '.[test]' && pytest")
