"""``jalon token`` (create, rotate, revoke, list) and ``jalon oversight`` (the French report), end to end."""

from __future__ import annotations

import datetime as dt
import os
import re
import stat

import pytest
from typer.testing import CliRunner

from core.french import NNBSP
from features.schema import NEED_CODES
from jalon.cli import app
from models.suggestion import Suggestion
from records import DecisionStore, row_from_suggestion

runner = CliRunner()


def test_token_create_rotate_list_and_revoke(jalon_home) -> None:
    created = runner.invoke(app, ["token", "adv-7", "--role", "advisor"])
    assert created.exit_code == 0, created.output
    token = created.output.strip()
    assert len(token) >= 32
    path = jalon_home / "tokens.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert runner.invoke(app, ["token", "prom-1", "--role", "metrics"]).exit_code == 0
    rotated = runner.invoke(app, ["token", "adv-7", "--role", "advisor"]).output.strip()
    assert rotated != token

    listed = runner.invoke(app, ["token", "--list"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [["prom-1", "metrics"], ["adv-7", "advisor"]]
    assert all(re.match(r"\d{4}-\d\d-\d\dT", line.split("\t")[2]) for line in lines)
    assert token not in listed.output
    assert rotated not in listed.output
    assert "sha256" not in listed.output

    revoked = runner.invoke(app, ["token", "--revoke", "adv-7"])
    assert revoked.exit_code == 0
    assert "adv-7" not in runner.invoke(app, ["token", "--list"]).output
    again = runner.invoke(app, ["token", "--revoke", "adv-7"])
    assert again.exit_code == 2
    assert len(again.output.strip().splitlines()) == 1
    assert "no token for subject 'adv-7'" in again.output

    for args in (["token"], ["token", "x", "--list"], ["token", "--list", "--revoke", "x"]):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2, args
        assert "exactly one of" in refused.output
    bad = runner.invoke(app, ["token", "Jean Dupont"])
    assert bad.exit_code == 2
    assert "pseudonymous id" in bad.output


def seed(store: DecisionStore, outputs, *, overrides_of: dict[str, tuple[int, int]]) -> None:
    """For each advisor, ``(decisions, overrides)`` on real model outputs; all suggestions made today."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    i = 0
    for advisor, (count, overridden) in overrides_of.items():
        for k in range(count):
            output = outputs[i % len(outputs)]
            i += 1
            suggestion = Suggestion(
                suggestion_id=f"{advisor}-{k}",
                model_version="test",
                created_at=now,
                person_id=f"PERSONNE-{i}",
                agency_id="AG075" if advisor != "adv-z" else "AG013",
                **dict(output),
                recommendation=None,
            )
            store.record_suggestion(**row_from_suggestion(suggestion, advisor_id=advisor, input_hash="h" * 64))
            override = k < overridden
            store.record_decision(
                suggestion_id=suggestion.suggestion_id,
                advisor_id=advisor,
                action="override" if override else "confirm",
                final_need=next(n for n in NEED_CODES if n != output.need_code) if override else output.need_code,
                final_tier=output.tier,
                reason="La personne a un projet de formation" if override else None,
                reason_code="PERSON_PROJECT" if override else None,
            )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_oversight_report_from_the_store(jalon_home, monkeypatch, request, model, records, tmp_path, backend) -> None:
    if backend == "postgresql":
        monkeypatch.setenv("JALON_DB_URL", request.getfixturevalue("postgres_database"))
    outputs = model.suggest_records(records[:40])
    with DecisionStore() as store:
        seed(store, outputs, overrides_of={"adv-x": (30, 6), "adv-y": (20, 10), "adv-z": (10, 0)})
    today = dt.datetime.now(dt.UTC).date()
    out = tmp_path / "rapport" / "oversight.html"
    result = runner.invoke(app, ["oversight", "--since", (today - dt.timedelta(days=7)).isoformat(), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "60 suggestions, 60 decided, 16 overridden" in result.output
    html = out.read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    assert "« Sera-t-elle automatique" in html
    assert f"26,7{NNBSP}%" in html  # 16 of 60
    assert "Projet professionnel exprimé par la personne" in html
    assert html.count("<svg") >= 5
    assert "AG075" in html
    assert "AG013" in html
    # No advisor and no person is named in a report staff representatives read.
    for name in ("adv-x", "adv-y", "adv-z", "PERSONNE-1"):
        assert name not in html
    assert "Ce rapport ne nomme aucun conseiller" in html
    assert "<script" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")

    for args, message in (
        (["--since", "2027-13-01", "--out", str(out)], "--since"),
        (["--since", "2027-01-01", "--out", str(tmp_path / "x.pdf")], ".html"),
        (["--since", "2027-02-01", "--until", "2027-01-01", "--out", str(out)], "until"),
    ):
        refused = runner.invoke(app, ["oversight", *args])
        assert refused.exit_code == 2, (args, refused.output)
        assert message in refused.output
        assert len(refused.output.strip().splitlines()) == 1
