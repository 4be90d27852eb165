"""The person's side, end to end in Chromium against a real server: the person's own view,
the contrat d'engagement (HTML and PDF read back), a contest re-examined by another advisor,
and what advisors expect around them (person ids, reopening, the override's path previewed).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io

import httpx
import pytest
from pypdf import PdfReader

from core import french
from features.schema import NEEDS
from records import DecisionStore
from tests.browser.test_advisor_page import decisions_for, no_foreign_requests, open_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FETCH_BYTES = """async ([url, token]) => {
  const r = await fetch(url, {headers: {Authorization: 'Bearer ' + token}});
  const bytes = new Uint8Array(await r.arrayBuffer());
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return [r.status, r.headers.get('content-type'), btoa(text)];
}"""


def suggest(page, person_view: str = "CAREER_PROJECT", person_id: str | None = None) -> dict:
    page.click("#load-example")
    if person_id:
        page.fill("#f-person_id", person_id)
    page.select_option("#person-view", person_view)
    with page.expect_response(lambda r: r.url.endswith("/suggest") and r.request.method == "POST") as info:
        page.click("#submit-profile")
    assert info.value.status == 200, info.value.text()
    page.wait_for_selector("#suggestion:not([hidden])")
    return info.value.json()


def confirm(page) -> dict:
    page.check("#action-confirm")
    with page.expect_response("**/decisions") as info:
        page.click("#submit-decision")
    assert info.value.status == 200, info.value.text()
    page.wait_for_selector("#decision-result:not([hidden])")
    return info.value.json()


def auditor_figures(jalon_server, tokens) -> dict:
    response = httpx.get(
        f"{jalon_server.url}/oversight/person_side", headers={"Authorization": f"Bearer {tokens['auditor']}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def signed_in_as(browser, jalon_server, token: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.foreign_requests, page.page_errors = [], []
    page.on("pageerror", lambda exc: page.page_errors.append(str(exc)))
    open_page(page, jalon_server)
    page.fill("#token", token)
    page.click("#signin-submit")
    page.wait_for_selector("#workspace:not([hidden])")
    return context, page


# --------------------------------------------------------------------------- 8. the person's own view


def test_the_persons_own_view_comes_first_and_is_shown_with_the_tool_and_the_decision(
    page, jalon_server, served_home, screenshots
):
    _, _, tokens = served_home
    before = auditor_figures(jalon_server, tokens)["views"]
    sign_in(page, jalon_server)
    page.click("#load-example")
    page.click("#submit-profile")
    page.wait_for_selector("#profile-errors:not([hidden])")
    assert "son besoin principal" in page.inner_text("#profile-errors")
    assert page.get_attribute("#person-view", "aria-invalid") == "true"
    assert page.is_hidden("#suggestion"), "the suggestion is shown only once the person's own view is recorded"

    s = suggest(page, "CAREER_PROJECT")
    assert page.inner_text("#s-person-view") == NEEDS["CAREER_PROJECT"]
    d = confirm(page)
    assert d["person_view_need"] == "CAREER_PROJECT"
    assert page.inner_text("#view-person") == NEEDS["CAREER_PROJECT"]
    assert page.inner_text("#view-tool") == s["need"]["label_fr"]
    assert page.inner_text("#view-advisor") == s["need"]["label_fr"]
    assert [x.person_view_need for x in decisions_for(jalon_server, s["suggestion_id"])] == ["CAREER_PROJECT"]
    page.locator("#decision-result").screenshot(path=str(screenshots / "three-views.png"))

    with page.context.expect_page() as popup:
        page.click("#open-report")
    report = popup.value
    report.wait_for_selector("#s-factors")
    views = report.inner_text("table.views")
    assert NEEDS["CAREER_PROJECT"] in views
    assert s["need"]["label_fr"] in views
    # A sensitive input is never said to « reduce the chances » (other factors may be).
    for line in report.inner_text("#s-factors").splitlines():
        if "âge" in line.lower() or "handicap" in line.lower():
            assert "réduit les chances" not in line, line
    report.close()

    # The oversight figures count the agreement between the three views.
    after = auditor_figures(jalon_server, tokens)["views"]
    assert after["with_person_view"] == before["with_person_view"] + 1
    agrees = s["need"]["code"] == "CAREER_PROJECT"
    assert after["person_agrees_with_tool"] == before["person_agrees_with_tool"] + agrees
    assert after["tool_agrees_with_advisor"] == before["tool_agrees_with_advisor"] + 1
    no_foreign_requests(page)


# --------------------------------------------------------------------------- 9. contrat d'engagement


def test_contract_of_a_decision_as_html_and_pdf(page, jalon_server, screenshots):
    sign_in(page, jalon_server)
    s = suggest(page, "TRAINING")
    new_need = next(code for code in NEEDS if code != s["need"]["code"])
    page.check("#action-override")
    page.select_option("#override-need", new_need)
    page.wait_for_selector("#override-preview:not([hidden])")
    page.select_option("#override-reason-code", "PERSON_PROJECT")
    page.fill("#override-reason", "La personne veut d'abord lever ses freins")
    with page.expect_response("**/decisions") as info:
        page.click("#submit-decision")
    d = info.value.json()
    rec = d["recommendation"]
    reference = "CE-" + d["decision_id"].replace("-", "")[:8].upper()

    with page.context.expect_page() as popup:
        page.click("#open-contract")
    contract = popup.value
    contract.wait_for_selector("#c-sign")
    text = contract.inner_text("body")
    for expected in (
        "Contrat d'engagement",
        reference,
        rec["parcours_label_fr"],
        rec["modality_label_fr"],
        rec["objective_fr"],
        rec["offers"][0]["name_fr"],
        NEEDS["TRAINING"],  # what the person said
        NEEDS[new_need],  # what was retained
        "France Travail s'engage",
        "Vous vous engagez",
        "La personne accompagnée",
        "Signature",
    ):
        assert expected in text, expected
    assert contract.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(18, 63, 122)"
    contract.screenshot(path=str(screenshots / "contract.png"), full_page=True)
    contract.close()

    status, content_type, data = page.evaluate(
        FETCH_BYTES, [f"{jalon_server.url}/contract/{d['decision_id']}.pdf", jalon_server.token]
    )
    assert status == 200
    assert content_type == "application/pdf"
    pdf = PdfReader(io.BytesIO(base64.b64decode(data)))
    # Words as read back (table cells wrap, apostrophes may be typographic).
    pdf_text = " ".join(" ".join(p.extract_text() for p in pdf.pages).replace("’", "'").split())
    for expected in ("Contrat d'engagement", reference, rec["parcours_label_fr"], NEEDS[new_need], "Signature"):
        assert expected.replace("’", "'") in pdf_text, expected
    (screenshots / "contract.pdf").write_bytes(base64.b64decode(data))

    # The page's PDF button fetches it with the token and offers it for download.
    page.click("#download-contract")
    page.wait_for_selector("#report-fallback a[download]")
    no_foreign_requests(page)


# --------------------------------------------------------------------------- 10. contestation


def test_contest_is_reexamined_by_another_advisor_and_shown_to_the_person(
    browser, jalon_server, served_home, screenshots
):
    _, _, tokens = served_home
    context_a, a = signed_in_as(browser, jalon_server, jalon_server.token)
    try:
        s = suggest(a, "SOCIAL_BARRIERS", person_id="DE-CONTEST-0001")
        confirm(a)
        a.click("#contest-box summary")
        received = dt.date.today() - dt.timedelta(days=1)  # the day before the contest is recorded
        a.fill("#contest-received", received.isoformat())
        statement = "Je ne suis pas d'accord : j'ai d'abord un problème de logement"
        a.fill("#contest-statement", statement)
        with a.expect_response("**/contests") as info:
            a.click("#submit-contest")
        assert info.value.status == 200, info.value.text()
        contest = info.value.json()
        assert contest["status"] == "open"
        assert "en cours de réexamen" in a.inner_text("#contest-result")
        row = a.locator(f"#contests-body tr[data-contest-id='{contest['contest_id']}']")
        row.wait_for()
        assert "Réexamen par un autre conseiller" in row.inner_text(), "the author of the decision cannot re-examine it"

        # While it is re-examined, its author cannot revise it through /decisions.
        refused = httpx.post(
            f"{jalon_server.url}/decisions",
            json={
                "suggestion_id": s["suggestion_id"],
                "advisor_id": jalon_server.advisor,
                "action": "confirm",
                "revision": True,
            },
            headers={"Authorization": f"Bearer {jalon_server.token}"},
        )
        assert refused.status_code == 409
        assert "re-examined" in refused.json()["error"]
    finally:
        context_a.close()

    context_b, b = signed_in_as(browser, jalon_server, tokens["advisor2"])
    try:
        row = b.locator(f"#contests-body tr[data-contest-id='{contest['contest_id']}']")
        row.wait_for()
        assert "DE-CONTEST-0001" in row.inner_text()
        assert statement in row.inner_text()
        b.locator("#contests").screenshot(path=str(screenshots / "contests-to-reexamine.png"))
        row.locator("button.reexamine").click()
        b.wait_for_selector("#reexam-box:not([hidden])")
        assert b.inner_text("#s-id") == s["suggestion_id"]
        assert statement in b.inner_text("#reexam-statement")
        assert b.is_hidden("#decision-form"), "the re-examiner answers the contest, not with an ordinary decision"
        b.check("#reexam-revise")
        b.select_option("#reexam-need", "SOCIAL_BARRIERS" if s["need"]["code"] != "SOCIAL_BARRIERS" else "TRAINING")
        reason = "Réexamen : le logement passe d'abord, nous commençons par lever ce frein"
        b.fill("#reexam-reason", reason)
        with b.expect_response("**/contest_outcomes") as info:
            b.click("#submit-reexam")
        assert info.value.status == 200, info.value.text()
        outcome = info.value.json()
        assert outcome["contest"]["status"] == "revised"
        assert outcome["decision"]["advisor_id"] == "advisor-2"
        b.wait_for_selector("#reexam-result:not([hidden])")
        assert "Décision révisée" in b.inner_text("#reexam-result")
        assert b.is_hidden("#contest-box")
        b.locator("#suggestion").screenshot(path=str(screenshots / "reexamination.png"))
        assert not b.locator(f"#contests-body tr[data-contest-id='{contest['contest_id']}']").count()
    finally:
        context_b.close()

    store = DecisionStore(jalon_server.db_url)
    try:
        history = store.get_suggestion(s["suggestion_id"]).decisions
        (recorded,) = store.contests_for(s["suggestion_id"])
    finally:
        store.dispose()
    assert [d.advisor_id for d in history] == [jalon_server.advisor, "advisor-2"]
    assert history[-1].reason == reason
    assert history[-1].person_view_need == "SOCIAL_BARRIERS"
    assert (recorded.status, recorded.outcome.decided_by) == ("revised", "advisor-2")

    # The person's report shows the contest, its outcome and the recourse paths with their sources.
    report = html.unescape(
        httpx.get(
            f"{jalon_server.url}/report/{s['suggestion_id']}", headers={"Authorization": f"Bearer {jalon_server.token}"}
        ).text
    )
    assert f"Contestation reçue le {french.date(received)}" in report
    assert "La décision a été modifiée." in report
    assert reason in report
    assert "médiateur" in report
    assert "L5312-12-1" in report
    assert "R421-1" in report
    figures = auditor_figures(jalon_server, tokens)["contests"]
    assert figures["revised"] >= 1


# --------------------------------------------------------------------------- also expected by advisors


def test_recent_decisions_show_the_person_reopen_and_preview_the_override(page, jalon_server):
    sign_in(page, jalon_server)
    s = suggest(page, "UNKNOWN", person_id="DE-REOPEN-0007")
    d = confirm(page)
    row = page.locator(f"#recent-body tr[data-decision-id='{d['decision_id']}']")
    row.wait_for()
    assert "DE-REOPEN-0007" in row.inner_text()

    page.click("#load-example")  # another profile: the suggestion is withdrawn
    assert page.is_hidden("#suggestion")
    row.locator("button.reopen").click()
    page.wait_for_selector("#suggestion:not([hidden])")
    assert page.inner_text("#s-id") == s["suggestion_id"]
    assert page.inner_text("#s-person-view") == "Ne sait pas"
    assert page.is_visible("#decision-result")
    assert "révision" in page.inner_text("#submit-decision")

    # The path an override would give, before it is recorded.
    other_tier = "C" if s["employability"]["tier"] != "C" else "A"
    with page.expect_response("**/path_preview") as info:
        page.check("#action-override")
        page.select_option("#override-tier", other_tier)
    preview = info.value.json()
    page.wait_for_selector("#override-preview:not([hidden])")
    shown = page.inner_text("#override-preview")
    assert preview["parcours_label_fr"] in shown
    assert preview["objective_fr"] in shown
    assert len(decisions_for(jalon_server, s["suggestion_id"])) == 1, "a preview records nothing"
    no_foreign_requests(page)


def test_an_auditor_records_a_contest_received_by_letter(browser, jalon_server, served_home, records):
    """From the reference printed on the person's report, through the page."""
    from tests.browser.test_advisor_page import with_reference

    _, _, tokens = served_home
    headers = {"Authorization": f"Bearer {jalon_server.token}"}
    s = httpx.post(f"{jalon_server.url}/suggest", json={"profile": with_reference(records[3])}, headers=headers).json()
    body = {"suggestion_id": s["suggestion_id"], "advisor_id": jalon_server.advisor, "action": "confirm"}
    assert httpx.post(f"{jalon_server.url}/decisions", json=body, headers=headers).status_code == 200

    context, page = signed_in_as(browser, jalon_server, tokens["auditor"])
    try:
        page.click("#contest-by-reference summary")
        page.fill("#ref-contest-id", s["suggestion_id"])
        page.fill("#ref-contest-statement", "Courrier : je souhaite une formation avant tout")
        with page.expect_response("**/contests") as info:
            page.click("#submit-ref-contest")
        assert info.value.status == 200, info.value.text()
        page.wait_for_selector("#ref-contest-result:not([hidden])")
        assert s["person_id"] in page.inner_text("#ref-contest-result")
        row = page.locator(f"#contests-body tr[data-contest-id='{info.value.json()['contest_id']}']")
        row.wait_for()
        assert "Réexamen par un autre conseiller" in row.inner_text(), "an auditor records, never re-examines"
    finally:
        context.close()
