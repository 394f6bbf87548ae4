"""An installed, non-editable Digest finds its templates and migrations."""

from __future__ import annotations

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
