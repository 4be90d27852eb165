"""The oversight boundary, tried as an attacker and as an auditor would, on the real server.

True authorship, strict input everywhere (4xx naming field and rule, never a 500 or a hang),
tokens revoked and rotated live, metrics that leak nothing, client mistakes logged at INFO.
"""

from __future__ import annotations

import json
import re
import socket
import time
import uuid

import httpx
import pytest

from serving.gate import MAX_BODY_BYTES
from serving.tokens import RELOAD_INTERVAL_S, issue_token, revoke_token

pytestmark = pytest.mark.xdist_group("server")


def call(server, path: str, body=None, token: str | None = "advisor", method: str = "POST", **headers):
    sent = {"content-type": "application/json", **headers}
    if token:
        sent["authorization"] = f"Bearer {server.tokens.get(token, token)}"
    content = json.dumps(body).encode() if body is not None else None
    return httpx.request(method, f"{server.url}{path}", content=content, headers=sent, timeout=30)


def suggest(server, record, token: str = "advisor") -> str:
    response = call(server, "/suggest", {"profile": record}, token=token)
    assert response.status_code == 200, response.text
    return response.json()["suggestion_id"]


def until(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


# --------------------------------------------------------------------------- authorship


def test_an_advisor_decides_only_as_themself(server, records) -> None:
    sid = suggest(server, records[10])
    forged = call(server, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-2", "action": "confirm"})
    assert forged.status_code == 403, forged.text
    assert "only as themself" in forged.json()["error"]
    assert "advisor-2" in forged.json()["error"]
    history = call(server, f"/suggestions/{sid}", method="GET", token="auditor").json()
    assert history["decisions"] == []


def test_an_admin_acting_for_an_advisor_is_recorded_as_such(server, records) -> None:
    sid = suggest(server, records[11])
    body = {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"}

    ghost = call(server, "/decisions", {**body, "advisor_id": "ghost-advisor", "on_behalf_reason": "x"}, token="admin")
    assert ghost.status_code == 422, ghost.text
    assert "not a known advisor" in ghost.json()["error"]

    silent = call(server, "/decisions", body, token="admin")
    assert silent.status_code == 422, silent.text
    assert "on_behalf_reason is required" in silent.json()["error"]

    reason = "Conseiller absent : décision prise avec la personne en entretien"
    acted = call(server, "/decisions", {**body, "on_behalf_reason": reason}, token="admin")
    assert acted.status_code == 200, acted.text
    decision = acted.json()
    assert (decision["advisor_id"], decision["actor"], decision["on_behalf_of"]) == (
        "advisor-1",
        "admin-1",
        "advisor-1",
    )
    assert decision["on_behalf_reason"] == reason

    # In the advisor's own history, with who really acted.
    mine = call(server, "/my_decisions", {"limit": 200}).json()
    shown = next(d for d in mine if d["decision_id"] == decision["decision_id"])
    assert (shown["actor"], shown["on_behalf_of"]) == ("admin-1", "advisor-1")
    # In the audit read, the listing and the person's report.
    read = call(server, f"/suggestions/{sid}", method="GET", token="auditor").json()
    assert read["decisions"][0]["actor"] == "admin-1"
    listed = call(server, "/audit/suggestions?advisor_id=advisor-1&limit=500", method="GET", token="auditor").json()
    row = next(r for r in listed["items"] if r["suggestion_id"] == sid)
    assert (row["actor"], row["on_behalf_of"]) == ("admin-1", "advisor-1")
    report = call(server, f"/report/{sid}", method="GET", token="auditor")
    assert "enregistrée par un administrateur ou une administratrice" in report.text

    # An advisor's own decision names them as actor; an advisor cannot claim to act for someone.
    own_sid = suggest(server, records[12])
    own = call(server, "/decisions", {"suggestion_id": own_sid, "advisor_id": "advisor-1", "action": "confirm"})
    assert (own.json()["actor"], own.json()["on_behalf_of"]) == ("advisor-1", None)
    claim = call(
        server,
        "/decisions",
        {
            "suggestion_id": own_sid,
            "advisor_id": "advisor-1",
            "action": "confirm",
            "on_behalf_reason": "x",
            "revision": True,
        },
    )
    assert claim.status_code == 422
    assert "on_behalf_reason" in claim.json()["error"]


# --------------------------------------------------------------------------- strict input


def test_unknown_fields_and_coercion_are_refused(server, records) -> None:
    sid = suggest(server, records[13])
    decision = {"suggestion_id": sid, "advisor_id": "advisor-1", "action": "confirm"}
    override = {**decision, "action": "override", "need": "TRAINING", "reason": "motif", "reason_code": "OTHER"}
    cases = [
        ("/suggest", {"profile": records[0], "debug": True}, "debug", "extra_forbidden"),
        ("/suggest", {"profile": {**records[0], "surname": "Dupont"}}, "profile.surname", "extra_forbidden"),
        ("/suggest", {"profile": {**records[0], "age": "34"}}, "profile.age", "int_type"),
        ("/suggest", {"profile": {**records[0], "driving_licence": 1}}, "profile.driving_licence", "bool_type"),
        ("/suggest_batch", {"profiles": [records[0]], "x": 1}, "x", "extra_forbidden"),
        ("/decisions", {**decision, "revision": "yes"}, "revision", "bool_type"),
        ("/decisions", {**decision, "revision": 1}, "revision", "bool_type"),
        ("/decisions", {**decision, "comment": "hello"}, "comment", "extra_forbidden"),
        ("/decisions", {**decision, "advisor_id": "advisor-1\u202e"}, "advisor_id", "string_pattern_mismatch"),
        ("/decisions", {**decision, "suggestion_id": "a\x00b"}, "suggestion_id", "string_pattern_mismatch"),
        ("/decisions", {**override, "reason": "motif\u202eliaf"}, "reason", "string_pattern_mismatch"),
        ("/decisions", {**override, "reason": "bell\x07"}, "reason", "string_pattern_mismatch"),
        ("/decisions", {**override, "reason_code": None}, "reason_code", "value_error"),
        ("/decisions", {**override, "reason_code": "BECAUSE"}, "reason_code", "literal_error"),
        ("/decisions", {**decision, "reason_code": "OTHER"}, "reason_code", "value_error"),
        ("/my_decisions", {"limit": -1}, "limit", "greater_than_equal"),
        ("/my_decisions", {"limit": 0}, "limit", "greater_than_equal"),
        ("/my_decisions", {"limit": 201}, "limit", "less_than_equal"),
        ("/my_decisions", {"limit": "5"}, "limit", "int_type"),
        ("/my_decisions", {"limit": 5.5}, "limit", "int_type"),
        ("/my_decisions", {"limit": 5, "offset": 1}, "offset", "extra_forbidden"),
        ("/whoami", {"me": True}, "me", "extra_forbidden"),
    ]
    for path, body, field, kind in cases:
        response = call(server, path, body)
        assert response.status_code == 400, (path, body, response.status_code, response.text)
        payload = response.json()
        assert isinstance(payload["error"], str)
        assert field.split(".")[-1] in payload["error"], (field, payload)
        items = payload["detail"]
        assert all(set(item) <= {"type", "loc", "msg", "url"} for item in items), items
        if kind != "value_error":
            assert any(item["type"] == kind and ".".join(map(str, item["loc"])) == field for item in items), (
                field,
                items,
            )
    # What is valid still works, with the limit in range.
    assert call(server, "/my_decisions", {"limit": 200}).status_code == 200
    assert call(server, "/my_decisions", {}).status_code == 200
    # A confirmation may not change the suggested need.
    other = (
        "TRAINING"
        if call(server, f"/suggestions/{sid}", method="GET").json()["suggestion"]["need"]["code"] != "TRAINING"
        else "SEARCH_SKILLS"
    )
    changed = call(server, "/decisions", {**decision, "need": other})
    assert changed.status_code == 422
    assert "override" in changed.json()["error"]


@pytest.mark.parametrize(
    "content_type",
    [None, "multipart/form-data", "multipart/form-data; boundary=x", "text/plain", "application/json; charset=latin-1"],
)
def test_only_json_bodies_are_read(server, content_type) -> None:
    headers = {"authorization": f"Bearer {server.tokens['advisor']}"}
    if content_type:
        headers["content-type"] = content_type
    response = httpx.post(f"{server.url}/decisions", content=b"--x\r\n\r\nabc", headers=headers, timeout=10)
    assert response.status_code == 415, response.text
    assert "JSON" in response.json()["error"]


def test_json_with_utf8_charset_is_accepted(server) -> None:
    response = call(server, "/whoami", {}, **{"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200


def test_bodies_over_the_limit_are_refused_before_parsing(server, records) -> None:
    # A batch of 1,000 profiles, even indented, fits under the limit.
    batch = json.dumps({"profiles": [records[i % len(records)] for i in range(1000)]}, indent=4).encode()
    assert len(batch) < MAX_BODY_BYTES
    huge = b"[" + b" " * (20 * 1024 * 1024) + b"]"
    started = time.monotonic()
    response = httpx.post(
        f"{server.url}/suggest_batch",
        content=huge,
        headers={"content-type": "application/json", "authorization": f"Bearer {server.tokens['advisor']}"},
        timeout=30,
    )
    assert response.status_code == 413, response.text
    assert time.monotonic() - started < 5

    def chunks():
        for _ in range(40):
            yield b" " * (128 * 1024)

    chunked = httpx.post(
        f"{server.url}/suggest_batch",
        content=chunks(),
        headers={"content-type": "application/json", "authorization": f"Bearer {server.tokens['advisor']}"},
        timeout=30,
    )
    assert chunked.status_code == 413, chunked.text


def raw_request(server, head: bytes) -> tuple[int, float]:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), time.monotonic() - started


def test_a_header_that_is_not_utf8_is_refused_at_once(server) -> None:
    token = server.tokens["auditor"].encode()
    head = (
        b"GET /suggestions/abc HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + token
        + b"\r\nX-Bad: \xff\xfe\r\nConnection: close\r\n\r\n"
    )
    status, seconds = raw_request(server, head)
    assert status == 400
    assert seconds < 2


def test_bad_path_ids_are_400_not_500(server) -> None:
    for path in ("/suggestions/a%20b", "/suggestions/%E2%80%AE", "/report/x%00y"):
        response = call(server, path, method="GET", token="auditor")
        assert response.status_code == 400, (path, response.text)
        assert "suggestion_id" in response.json()["error"]


def test_client_errors_are_logged_at_info_without_traceback(server, records) -> None:
    marker = f"probe-{uuid.uuid4().hex[:8]}"
    response = call(server, "/suggest", {"profile": {**records[0], "person_id": marker, "age": 999}})
    assert response.status_code == 400
    time.sleep(0.5)
    logs = server.logs()
    lines = [line for line in logs.splitlines() if "client error 400 on /suggest" in line]
    assert lines, "the client error is logged"
    assert all("[INFO]" in line for line in lines)
    assert marker not in logs
    assert "Traceback" not in logs
    assert not re.search(r"\[ERROR\].*(ValidationError|client error)", logs)


# --------------------------------------------------------------------------- tokens


def test_rotated_and_revoked_tokens_stop_working_without_restart(server, served_home) -> None:
    home, _, _ = served_home
    tokens_file = home / "tokens.json"
    first = issue_token(tokens_file, "rotating-1", "advisor")

    def status(token: str) -> int:
        return call(server, "/whoami", {}, token=token).status_code

    def everywhere(check) -> bool:
        """Several requests in a row, so that every worker answers (each reloads on its own)."""
        return all(check() for _ in range(6))

    a_few_seconds = 3 * RELOAD_INTERVAL_S + 2
    assert until(lambda: everywhere(lambda: status(first) == 200))
    second = issue_token(tokens_file, "rotating-1", "advisor")
    started = time.monotonic()
    assert until(lambda: everywhere(lambda: status(first) == 401 and status(second) == 200), timeout=a_few_seconds)
    revoke_token(tokens_file, "rotating-1")
    assert until(lambda: everywhere(lambda: status(second) == 401), timeout=a_few_seconds)
    print(f"rotation and revocation effective on every worker in {time.monotonic() - started:.1f} s")


# --------------------------------------------------------------------------- metrics


def label_sets(text: str) -> set[str]:
    return {line.split(" ")[0] for line in text.splitlines() if line.startswith("jalon_http_requests_total{")}


def test_metrics_need_a_token_and_label_route_templates(server, served_home) -> None:
    home, _, _ = served_home
    scrape_token = issue_token(home / "tokens.json", "prometheus-1", "metrics")
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    assert call(server, "/metrics", method="GET").status_code == 403  # an advisor
    # Each worker re-reads the tokens file by itself: wait until every one knows the new token.
    assert until(
        lambda: all(call(server, "/metrics", method="GET", token=scrape_token).status_code == 200 for _ in range(6))
    )
    assert call(server, "/metrics", method="GET", token="auditor").status_code == 200
    statuses: list[int] = []
    assert until(
        lambda: (
            statuses.append(call(server, "/suggestions/abc", method="GET", token=scrape_token).status_code)
            or statuses[-1] == 403
        )
    )
    assert set(statuses) <= {401, 403}, statuses  # a scrape token never reads a suggestion

    def scrape() -> str:
        return call(server, "/metrics", method="GET", token=scrape_token).text

    def random_requests(count: int) -> None:
        auditor = {"authorization": f"Bearer {server.tokens['auditor']}"}
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for i in range(count):
                rid = uuid.uuid4().hex
                kind = i % 4
                if kind == 0:
                    assert client.get(f"/suggestions/{rid}", headers=auditor).status_code == 404
                elif kind == 1:
                    assert client.get(f"/report/{rid}").status_code == 401
                elif kind == 2:
                    assert client.get(f"/no-such-route/{rid}", headers=auditor).status_code == 404
                else:
                    assert client.get(f"/{rid}").status_code == 401

    random_requests(8)  # every kind once on each worker, before counting labels
    before = label_sets(scrape())
    random_requests(3000)
    text = scrape()
    assert label_sets(text) == before
    assert 'route="/suggestions/{suggestion_id}"' in text
    assert 'route="unmatched"' in text
    assert not re.search(r"[0-9a-f]{32}", text), "no id in any label"
    assert len(text) < 100_000
