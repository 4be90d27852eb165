"""The MSA experiment's arms on a real `bentoml serve`: the API per arm, the OpenAPI document, the page in Chromium.

The server runs over the trained home with its own decisions database, in which an agency
register and a draw are recorded (the same as in ``tests/serving/test_arms.py``).
"""

from __future__ import annotations

import html
from collections.abc import Iterator

import httpx
import pytest

from records import DecisionStore
from tests.browser.conftest import ADVISOR
from tests.conftest import start_server
from tests.serving.test_arms import in_arm, record_draw

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def arms_server(chromium_path, served_home, tmp_path_factory) -> Iterator[tuple]:
    home, tag, tokens = served_home
    url = f"sqlite:///{tmp_path_factory.mktemp('arms') / 'decisions.db'}"
    store = DecisionStore(url)
    try:
        arms = record_draw(store)
    finally:
        store.dispose()
    server = start_server(home, tag, tokens, JALON_DB_URL=url)
    try:
        yield server, arms
    finally:
        server.stop()


def post(server, path: str, body: dict) -> httpx.Response:
    headers = {"authorization": f"Bearer {server.tokens[ADVISOR]}"}
    return httpx.post(f"{server.url}{path}", json=body, headers=headers, timeout=60)


def test_api_answers_per_arm_and_documents_it(arms_server, records: list[dict]) -> None:
    server, arms = arms_server
    [model_2] = in_arm(records, arms, "MODEL_2")
    response = post(server, "/suggest", {"profile": model_2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["experiment"]["arm"] == "MODEL_2"
    assert body["recommendation"] is None
    assert body["track_proposal"]["rule_id"] in ("model2-intensive-eligible", "model2-excluded-need")
    assert body["track_proposal"]["priority_score"] == body["employability"]["probability"]

    [model_1] = in_arm(records, arms, "MODEL_1")
    body = post(server, "/suggest", {"profile": model_1}).json()
    assert body["experiment"]["arm"] == "MODEL_1"
    assert body["track_proposal"] is None
    assert body["recommendation"]["rule_id"]

    [control] = in_arm(records, arms, "CONTROL")
    refused = post(server, "/suggest", {"profile": control})
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert f"agency '{control['agency_id']}' is a CONTROL agency of the MSA experiment" in error
    assert "the tool is not deployed in this agency" in error
    batch = post(server, "/suggest_batch", {"profiles": [model_1, control]})
    assert batch.status_code == 409
    assert "nothing was recorded" in batch.json()["error"]

    schema = httpx.get(f"{server.url}/docs.json", timeout=30).json()
    components = schema["components"]["schemas"]
    assert {"ExperimentArm", "TrackProposal"} <= set(components)
    assert "409" in schema["paths"]["/suggest"]["post"]["description"]


def test_page_and_report_show_the_arm(browser, arms_server, records: list[dict]) -> None:
    server, arms = arms_server
    [model_2] = in_arm(records, arms, "MODEL_2")
    [control] = in_arm(records, arms, "CONTROL")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{server.url}/ui/")
        page.fill("#token", server.tokens[ADVISOR])
        page.click("#signin-submit")
        page.wait_for_selector("#workspace:not([hidden])")
        page.click("#load-example")
        page.fill("#f-agency_id", model_2["agency_id"])
        page.select_option("#person-view", "TRAINING")  # the person's own view comes first
        with page.expect_response(lambda r: r.url.endswith("/suggest")) as info:
            page.click("#submit-profile")
        suggestion = info.value.json()
        page.wait_for_selector("#suggestion:not([hidden])")
        assert "Expérimentation MSA\u202f: Modèle 2 — priorité à l'alliance de travail" in page.inner_text("#s-arm")
        assert page.is_visible("#track-box")
        assert page.is_hidden("#recommendation-box")
        assert suggestion["track_proposal"]["track_label_fr"] in page.inner_text("#track-proposal")

        page.fill("#f-agency_id", control["agency_id"])
        page.select_option("#person-view", "TRAINING")
        with page.expect_response(lambda r: r.url.endswith("/suggest")) as info:
            page.click("#submit-profile")
        assert info.value.status == 409
        page.wait_for_selector("#profile-errors:not([hidden])")
        assert "L'outil n'est pas déployé dans cette agence" in page.inner_text("#profile-errors")
        assert errors == []
    finally:
        context.close()

    report = httpx.get(
        f"{server.url}/report/{suggestion['suggestion_id']}",
        headers={"authorization": f"Bearer {server.tokens[ADVISOR]}"},
        timeout=30,
    )
    assert report.status_code == 200
    text = html.unescape(report.text)
    assert "Votre agence participe à l'expérimentation" in text
    assert "Modèle 2 — priorité à l'alliance de travail" in text
    assert suggestion["track_proposal"]["track_label_fr"] in text
