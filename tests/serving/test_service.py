"""The real BentoML server: suggestions, decisions, durability, auth and bad input."""

from __future__ import annotations

import json

import httpx
import pytest

from records import DecisionStore

pytestmark = pytest.mark.xdist_group("server")


def call(server, path: str, body=None, token: str | None = "advisor", method: str = "POST", raw: bytes | None = None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {server.tokens[token]}"
    content = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return httpx.request(method, f"{server.url}{path}", content=content, headers=headers, timeout=30)


def test_suggest_is_explained_and_additive(server, records) -> None:
    response = call(server, "/suggest", {"profile": records[0]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person_id"] == records[0]["person_id"]
    assert body["model_version"]
    assert abs(sum(d["probability"] for d in body["need"]["distribution"]) - 1) < 1e-9
    assert body["employability"]["tier"] in ("A", "B", "C")
    for key in ("need", "employability"):
        e = body["explanations"][key]
        total = e["base_value"] + sum(f["contribution"] for f in e["factors"]) + e["other_contribution"]
        assert abs(total - e["raw_score"]) < 1e-9
        assert all(f["sentence_fr"] for f in e["factors"])
    assert body["recommendation"]["milestone_date"]
    assert body["recommendation"]["rule_id"]


def test_batch_matches_single_suggestions(server, records) -> None:
    batch = call(server, "/suggest_batch", {"profiles": records[:25]})
    assert batch.status_code == 200, batch.text
    single = call(server, "/suggest", {"profile": records[3]}).json()
    item = batch.json()["suggestions"][3]
    assert item["need"] == single["need"]
    assert item["explanations"] == single["explanations"]
    assert len({s["suggestion_id"] for s in batch.json()["suggestions"]}) == 25


def test_decisions_are_recorded_with_history(server, records) -> None:
    suggestion = call(server, "/suggest", {"profile": records[1]}).json()
    sid = suggestion["suggestion_id"]
    confirm = call(server, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"})
    assert confirm.status_code == 200, confirm.text
    assert confirm.json()["final_need"] == suggestion["need"]["code"]
    again = call(server, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"})
    assert again.status_code == 409
    assert "revision" in again.text
    revised = call(
        server,
        "/decisions",
        {
            "suggestion_id": sid,
            "advisor_id": "advisor-1",
            "action": "override",
            "need": "TRAINING",
            "tier": "C",
            "reason_code": "PERSON_PROJECT",
            "reason": "Projet de formation confirmé en entretien",
            "revision": True,
        },
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["revision_of"] == confirm.json()["decision_id"]
    assert revised.json()["recommendation"]["need"] == "TRAINING"
    read = call(server, f"/suggestions/{sid}", method="GET", token="auditor").json()
    assert [d["action"] for d in read["decisions"]] == ["confirm", "override"]
    mine = call(server, "/my_decisions", {}).json()
    assert mine[0]["decision_id"] == revised.json()["decision_id"]


def test_roles(server, records) -> None:
    assert call(server, "/suggest", {"profile": records[0]}, token=None).status_code == 401
    bad = httpx.post(f"{server.url}/suggest", json={"profile": records[0]}, headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert call(server, "/suggest", {"profile": records[0]}, token="auditor").status_code == 403
    sid = call(server, "/suggest", {"profile": records[2]}).json()["suggestion_id"]
    assert call(server, f"/suggestions/{sid}", method="GET", token="advisor2").status_code == 403
    assert call(server, f"/suggestions/{sid}", method="GET", token="auditor").status_code == 200
    other = call(
        server, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"}, token="advisor2"
    )
    assert other.status_code == 403
    for open_path in ("/livez", "/readyz", "/docs.json", "/schema.json"):
        assert httpx.get(f"{server.url}{open_path}").status_code == 200, open_path
    assert httpx.get(f"{server.url}/metrics").status_code == 401


def test_metrics_count_requests(server, records) -> None:
    call(server, "/suggest", {"profile": records[4]})
    metrics = call(server, "/metrics", method="GET", token="auditor").text
    assert "suggest" in metrics
    assert "request" in metrics


BAD_INPUTS = [
    ("unknown code", "/suggest", {"profile_patch": {"housing": "CASTLE"}}, 400, "housing"),
    ("out of range", "/suggest", {"profile_patch": {"age": 212}}, 400, "age"),
    ("wrong type", "/suggest", {"profile_patch": {"months_worked_24m": "ten"}}, 400, "months_worked_24m"),
    ("missing required", "/suggest", {"profile_drop": "category"}, 400, "category"),
    ("unknown field", "/suggest", {"profile_patch": {"surname": "Dupont"}}, 400, "surname"),
    ("oversized batch", "/suggest_batch", {"batch": 1001}, 400, "profiles"),
    ("malformed JSON", "/suggest", {"raw": b'{"profile": {'}, 400, "json"),
    (
        "unknown suggestion",
        "/decisions",
        {"decision": {"suggestion_id": "nope", "advisor_id": "advisor-1", "action": "confirm"}},
        404,
        "suggestion_id",
    ),
    (
        "override without reason",
        "/decisions",
        {"decision": {"suggestion_id": "x", "advisor_id": "advisor-1", "action": "override", "need": "TRAINING"}},
        400,
        "reason",
    ),
    (
        "bad action",
        "/decisions",
        {"decision": {"suggestion_id": "x", "advisor_id": "advisor-1", "action": "maybe"}},
        400,
        "action",
    ),
]


@pytest.mark.parametrize(("case", "path", "spec", "status", "names"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_a_4xx_naming_the_field(server, records, case, path, spec, status, names) -> None:
    if "raw" in spec:
        response = call(server, path, raw=spec["raw"])
    elif "batch" in spec:
        response = call(server, path, {"profiles": [records[0]] * spec["batch"]})
    elif "decision" in spec:
        response = call(server, path, spec["decision"])
    else:
        profile = {**records[0], **spec.get("profile_patch", {})}
        profile.pop(spec.get("profile_drop", ""), None)
        response = call(server, path, {"profile": profile})
    assert response.status_code == status, response.text
    assert names in response.text.lower() or names in response.text


def test_unknown_suggestion_read_is_404(server) -> None:
    assert call(server, "/suggestions/nope", method="GET", token="auditor").status_code == 404


def test_no_profile_value_in_logs(server, records) -> None:
    marker, bad_marker = 37.123456, 48.654321  # values that cannot occur by chance in a log
    profile = {**records[5], "experience_years": marker}
    assert call(server, "/suggest", {"profile": profile}).status_code == 200
    bad = {**profile, "experience_years": bad_marker, "age": 999}
    assert call(server, "/suggest", {"profile": bad}).status_code == 400
    logs = server.logs()
    assert "client error 400 on /suggest" in logs  # the bad request was logged...
    assert str(marker) not in logs
    assert str(bad_marker) not in logs
    assert "input_value" not in logs


def test_decision_survives_kill_9(served_home, records) -> None:
    """A decision answered 2xx is in the database after the server is killed and restarted."""
    from tests.conftest import start_server

    home, tag, tokens = served_home
    first = start_server(home, tag, tokens)
    try:
        sid = call(first, "/suggest", {"profile": records[6]}).json()["suggestion_id"]
        decided = call(first, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"})
        assert decided.status_code == 200
    finally:
        first.stop(graceful=False)  # SIGKILL to the whole tree, no clean shutdown
    store = DecisionStore(f"sqlite:///{home / 'decisions.db'}")
    assert store.get_suggestion(sid).latest_decision.decision_id == decided.json()["decision_id"]
    second = start_server(home, tag, tokens)
    try:
        read = call(second, f"/suggestions/{sid}", method="GET", token="auditor")
        assert read.json()["decisions"][0]["decision_id"] == decided.json()["decision_id"]
    finally:
        second.stop()


def test_every_error_body_is_an_object_with_error(server) -> None:
    responses = [
        call(server, "/decisions", {"suggestion_id": "nope", "advisor_id": "advisor-1", "action": "confirm"}),
        call(server, "/suggest", {"profile": {"age": 1}}),
        call(server, "/suggest", {"profile": {}}, token=None),
        call(server, "/suggestions/nope", method="GET", token="auditor"),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500
        body = response.json()
        assert isinstance(body, dict), body
        assert body["error"], body


def test_openapi_shows_the_suggestion_contract(server) -> None:
    """The documented response of /suggest is the typed contract: every object closed, every field named."""
    from models.suggestion import Suggestion

    document = httpx.get(f"{server.url}/docs.json", timeout=30).json()
    schemas = document["components"]["schemas"]
    response = document["paths"]["/suggest"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in response:  # BentoML inlines the top-level response object; nested ones are references
        response = schemas[response["$ref"].rsplit("/", 1)[-1]]
    assert set(response["properties"]) == set(Suggestion.model_fields)
    assert response["additionalProperties"] is False
    need = response["properties"]["need"]  # null for a model without a need label: anyOf [ref, null]
    assert [v.get("$ref", v.get("type")) for v in need["anyOf"]] == ["#/components/schemas/NeedSuggestion", "null"]
    for key in ("Suggestion", "NeedSuggestion", "EmployabilityOut", "Explanation", "Factor", "Recommendation"):
        matching = [s for n, s in schemas.items() if n == key or n.startswith(f"{key}-")]
        assert matching, key
        assert all(s.get("additionalProperties") is False for s in matching), key
    loose = [n for n, s in schemas.items() if s.get("additionalProperties") is True]
    assert not loose, loose
