"""The auditors' routes on the real server: list, filter, page, export; the oversight figures."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import httpx
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.xdist_group("server")


def get(server, path: str, token: str = "auditor") -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers={"authorization": f"Bearer {server.tokens[token]}"}, timeout=60)


def post(server, path: str, body: dict, token: str = "advisor") -> httpx.Response:
    headers = {"authorization": f"Bearer {server.tokens[token]}", "content-type": "application/json"}
    return httpx.post(f"{server.url}{path}", content=json.dumps(body), headers=headers, timeout=60)


def test_list_page_and_export(server, records) -> None:
    batch = post(server, "/suggest_batch", {"profiles": records[40:52]}, token="advisor2")
    assert batch.status_code == 200, batch.text
    ids = [s["suggestion_id"] for s in batch.json()["suggestions"]]
    for sid in ids[:4]:
        decided = post(
            server, "/decisions", {"suggestion_id": sid, "advisor_id": "advisor-2", "action": "confirm"}, "advisor2"
        )
        assert decided.status_code == 200, decided.text
    over = post(
        server,
        "/decisions",
        {
            "suggestion_id": ids[4],
            "advisor_id": "advisor-2",
            "action": "override",
            "tier": "C" if batch.json()["suggestions"][4]["employability"]["tier"] != "C" else "B",
            "reason_code": "CHANGED_SITUATION",
            "reason": "Reprise d'activité partielle depuis l'inscription",
        },
        "advisor2",
    )
    assert over.status_code == 200, over.text

    today = dt.datetime.now(dt.UTC).date().isoformat()
    query = f"/audit/suggestions?advisor_id=advisor-2&since={today}"
    pages, cursor = [], None
    while True:
        page = get(server, query + "&limit=5" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200, page.text
        pages.append(page.json())
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    listed = [row for page in pages for row in page["items"]]
    assert {row["suggestion_id"] for row in listed} >= set(ids)
    assert all(len(page["items"]) <= 5 for page in pages)
    mine = {row["suggestion_id"]: row for row in listed if row["suggestion_id"] in ids}
    assert mine[ids[4]]["latest_action"] == "override"
    assert mine[ids[4]]["reason_code"] == "CHANGED_SITUATION"
    assert mine[ids[0]]["actor"] == "advisor-2"
    assert mine[ids[9]]["latest_action"] is None

    undecided = get(server, query + "&action=undecided&limit=500").json()["items"]
    assert {r["suggestion_id"] for r in undecided} >= set(ids[5:])
    assert not {r["suggestion_id"] for r in undecided} & set(ids[:5])

    exported = get(server, query + "&format=csv")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["suggestion_id"] for r in rows] == [r["suggestion_id"] for r in listed]
    parquet = get(server, query + "&format=parquet")
    assert parquet.status_code == 200
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column("suggestion_id").to_pylist() == [r["suggestion_id"] for r in listed]
    assert str(table.schema.field("created_at").type) == "timestamp[us, tz=UTC]"

    assert get(server, query + "&format=csv&limit=5").status_code == 422
    assert get(server, "/audit/suggestions", token="advisor").status_code == 403


def test_oversight_figures_over_http(server, records) -> None:
    # A decision of its own: the tests of a module may run on different xdist workers.
    made = post(server, "/suggest", {"profile": records[60]}, token="advisor2")
    assert made.status_code == 200, made.text
    decided = post(
        server,
        "/decisions",
        {"suggestion_id": made.json()["suggestion_id"], "advisor_id": "advisor-2", "action": "confirm"},
        "advisor2",
    )
    assert decided.status_code == 200, decided.text
    today = dt.datetime.now(dt.UTC).date().isoformat()
    figures = get(server, f"/audit/oversight?since={today}")
    assert figures.status_code == 200, figures.text
    body = figures.json()
    assert body["decisions"] >= 1
    for key in ("by_need", "by_tier", "by_agency", "by_advisor"):
        for group in body[key].values():
            assert {"decisions", "overrides", "override_rate"} <= set(group)
    assert body["override_rate"] == pytest.approx(body["overrides"] / body["decisions"])
    assert body["quick_confirmations"]["threshold_seconds"] == 10
    assert get(server, "/audit/oversight?since=2027-02-30").status_code == 400
    assert get(server, f"/audit/oversight?since={today}&until=2020-01-01").status_code == 422
    assert get(server, "/audit/oversight", token="admin").status_code == 200
    assert get(server, "/audit/oversight", token="advisor").status_code == 403
