"""`make run` reuses an existing champion instead of retraining (issue 14: `jalon models` never
showed the alias, so `make run`, which looks for it, registered a new version every time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.config import PROJECT_ROOT


def test_make_train_reuses_the_champion(trained_home: Path, population_file: Path) -> None:
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    env = {
        **{k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"},
        "PYTHONPATH": str(PROJECT_ROOT),
        "JALON_HOME": str(trained_home),
    }
    done = subprocess.run(
        # -o: the venv is taken as installed (the suite runs in it); DATA exists, so nothing is generated.
        ["make", "-C", str(PROJECT_ROOT), "train", f"VENV={venv}", f"DATA={population_file}", "-o", str(stamp)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a champion exists" in done.stdout
    assert "Created version" not in done.stdout + done.stderr
