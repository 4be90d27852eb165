"""A model trained on another spec than the profile is served with that spec's request models,
OpenAPI and advisor form (issue 14, item 6), by a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXTRACT_MODEL, environment, start_server

pytestmark = pytest.mark.xdist_group("server")
PROJECT_ROOT = Path(__file__).resolve().parents[2]

PROFILE = {
    "person_ref": "JT98-09999",
    "black": None,
    "hisp": False,
    "age": 41,
    "educ": 11,
    "married": True,
    "earn96": 12.5,
    "unem96": False,
    "train": True,
}


@pytest.fixture(scope="module")
def extract_server(extract_home):
    from core.config import get_settings
    from serving.auth import issue_token

    # BentoML fixes its model store at first use in a process: another fixture of this worker may
    # have used another home's store, so the champion is imported by a process of its own.
    code = (
        "from core.config import get_settings; from serving.bento_model import import_champion; "
        f"print(import_champion(get_settings(), {EXTRACT_MODEL!r})[0])"
    )
    env = {**os.environ, "JALON_HOME": str(extract_home), "BENTOML_HOME": str(extract_home / "bentoml")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    tag = done.stdout.strip().splitlines()[-1]
    with environment(JALON_HOME=str(extract_home), BENTOML_HOME=str(extract_home / "bentoml")):
        settings = get_settings()
        tokens = {"advisor": issue_token(settings.tokens_file, "adv-extract", "advisor")}
    assert tag.startswith(EXTRACT_MODEL + ":")
    server = start_server(extract_home, tag, tokens)
    yield server
    server.stop()


def _post(server, path: str, body: dict) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": f"Bearer {server.tokens['advisor']}"}
    return httpx.post(f"{server.url}{path}", content=json.dumps(body), headers=headers, timeout=30)


def test_suggest_takes_the_spec_profile(extract_server) -> None:
    response = _post(extract_server, "/suggest", {"profile": PROFILE})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person_id"] == "JT98-09999"
    assert body["need"] is None
    assert body["employability"]["tier"] in ("A", "B", "C")
    labels = {f["label_fr"] for f in body["explanations"]["employability"]["factors"]}
    assert "Années d'études" in labels


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"educ": None}, "educ"),
        ({"age": 212}, "age"),
        ({"housing": "STABLE"}, "housing"),
        ({"married": "yes"}, "married"),
    ],
)
def test_bad_spec_profiles_are_refused_naming_the_field(extract_server, change, field) -> None:
    response = _post(extract_server, "/suggest", {"profile": {**PROFILE, **change}})
    assert response.status_code == 400, response.text
    assert field in response.text


def test_openapi_and_form_follow_the_spec(extract_server) -> None:
    schema = httpx.get(f"{extract_server.url}/docs.json", timeout=30).json()
    profile = schema["components"]["schemas"]["Profile"]
    assert set(profile["properties"]) == set(PROFILE)
    assert {"person_ref", "age", "educ", "married", "earn96", "unem96", "train"} <= set(profile["required"])
    page = httpx.get(f"{extract_server.url}/ui/", timeout=30).text
    assert 'id="f-earn96"' in page
    assert "Années d&#39;études" in page or "Années d'études" in page
    assert 'id="f-housing"' not in page
    assert "probabilité de «\u00a0En emploi en 1998\u00a0», dans les 2 ans" in page
    assert "6 mois" not in page
    assert "synthétique" not in page
