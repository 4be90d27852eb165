"""The lock, the Bento's requirements and what the Bento's modules import agree.

``requirements-serving.txt`` is generated from ``requirements.lock`` by ``make requirements``
(runtime dependencies only); these tests fail when one is edited or regenerated without the
other, or when a module the Bento ships starts importing a training-only library.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCK = PROJECT_ROOT / "requirements.lock"
SERVING = PROJECT_ROOT / "requirements-serving.txt"
#: In the ``train`` extra only: the Bento must neither list nor import them.
TRAINING_ONLY = ("matplotlib", "fairlearn", "shap")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file (hash and comment lines skipped)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "--")):
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[normalise(match[1])] = match[2]
    return found


def project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def runtime_closure() -> set[str]:
    """The runtime dependencies and theirs, as installed here (the suite runs on the lock's versions)."""
    declared = [Requirement(r) for r in project()["dependencies"]]
    # Markers are evaluated when a requirement is queued: a dependency's own marker names the
    # extra of the package that asked for it.
    todo = [r for r in declared if r.marker is None or r.marker.evaluate({"extra": ""})]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        key = normalise(requirement.name) + "[" + ",".join(sorted(requirement.extras)) + "]"
        if key in seen:
            continue
        seen.add(key)
        for text in importlib.metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in ("", *requirement.extras)):
                todo.append(dependency)
    return {key.split("[")[0] for key in seen}


def test_serving_requirements_are_the_lock_pins() -> None:
    lock, serving = pins(LOCK), pins(SERVING)
    assert len(serving) > 20
    drift = {name: (version, lock.get(name)) for name, version in serving.items() if lock.get(name) != version}
    assert drift == {}, f"requirements-serving.txt differs from requirements.lock, run `make requirements`: {drift}"


def test_serving_requirements_are_exactly_the_runtime_dependencies() -> None:
    serving = set(pins(SERVING))
    closure = runtime_closure()
    assert closure - serving == set(), "runtime dependencies missing from requirements-serving.txt (make lock)"
    assert serving - closure == set(), "requirements-serving.txt lists more than the runtime needs (make lock)"


def test_serving_requirements_have_no_training_library() -> None:
    assert set(TRAINING_ONLY) & set(pins(SERVING)) == set()
    assert set(TRAINING_ONLY) <= set(pins(LOCK))  # the names are right: the lock has them (train extra)


def test_lock_pins_every_declared_dependency_with_hashes() -> None:
    lock = pins(LOCK)
    declared = [Requirement(r) for r in project()["dependencies"]]
    declared += [Requirement(r) for extra in project()["optional-dependencies"].values() for r in extra]
    for requirement in declared:
        if normalise(requirement.name) == "jalon":  # an extra of the project itself
            continue
        version = lock.get(normalise(requirement.name))
        assert version is not None, f"{requirement.name} is not in requirements.lock (make lock)"
        assert requirement.specifier.contains(version, prereleases=True), f"{requirement} but locked {version}"
    text = LOCK.read_text(encoding="utf-8")
    assert text.count("==") == len(lock)
    assert len(re.findall(r"^[A-Za-z0-9][^\s]*==[^\s]+ \\\n\s+--hash=sha256:", text, flags=re.M)) == len(lock)


def test_bento_ships_the_generated_requirements() -> None:
    bentofile = yaml.safe_load((PROJECT_ROOT / "bentofile.yaml").read_text(encoding="utf-8"))
    assert bentofile["python"]["requirements_txt"] == "./requirements-serving.txt"


def test_bento_modules_import_no_training_library() -> None:
    """Importing every module the Bento ships (bentofile.yaml's packages) loads none of them."""
    bentofile = yaml.safe_load((PROJECT_ROOT / "bentofile.yaml").read_text(encoding="utf-8"))
    packages = sorted({entry.split("/")[0] for entry in bentofile["include"] if entry.endswith(".py")})
    assert {"core", "features", "models", "policy", "records", "serving"} <= set(packages)
    code = f"""
import importlib, json, pkgutil, sys
imported = []
for name in {packages!r}:
    package = importlib.import_module(name)
    imported.append(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if not module.name.startswith("records.migrations"):  # Alembic scripts run inside Alembic only
            importlib.import_module(module.name)
            imported.append(module.name)
print(json.dumps({{"imported": imported, "loaded": sorted(sys.modules)}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"serving.service", "records.store"} <= set(result["imported"])
    loaded = {name.split(".")[0] for name in result["loaded"]}
    assert loaded & set(TRAINING_ONLY) == set()
