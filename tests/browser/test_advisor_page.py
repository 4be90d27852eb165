"""The advisor page in Chromium, against a real `bentoml serve` (see conftest.py).

What an advisor does: sign in with a token, load a profile, read the explained
suggestion, then confirm or override it (an override needs a reason), see the decision
and open the person's report. Decisions are checked in the real database. Screenshots go
to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re

import pytest

from features.schema import NEEDS, profile_fields
from models.card import KNOWN_LIMITS, OVERSIGHT
from records import DecisionStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]


# --------------------------------------------------------------------------- helpers


def open_page(page, server):
    page.goto(f"{server.url}/ui/")
    page.wait_for_selector("#signin-form")
    return page


def sign_in(page, server) -> None:
    open_page(page, server)
    page.fill("#token", server.token)
    page.click("#signin-submit")
    page.wait_for_selector("#workspace:not([hidden])")


def suggest_example(page, person_view: str = "TRAINING") -> dict:
    """Load the example, record the person's own view, submit, wait for the suggestion; return the API's JSON."""
    page.click("#load-example")
    page.select_option("#person-view", person_view)
    with page.expect_response(lambda r: r.url.endswith("/suggest") and r.request.method == "POST") as info:
        page.click("#submit-profile")
    response = info.value
    assert response.status == 200, response.text()
    page.wait_for_selector("#suggestion:not([hidden])")
    return response.json()


def decisions_for(server, suggestion_id: str):
    store = DecisionStore(server.db_url)
    try:
        return store.get_suggestion(suggestion_id).decisions
    finally:
        store.dispose()


def percent(text: str) -> int:
    return int(re.search(r"(\d+)", text).group(1))


def other_need(code: str) -> str:
    return next(c for c in NEEDS if c != code)


def no_foreign_requests(page) -> None:
    assert page.foreign_requests == [], f"the page called outside the service: {page.foreign_requests}"
    assert page.page_errors == [], f"JavaScript errors: {page.page_errors}"


# --------------------------------------------------------------------------- tests


def test_sign_in_and_explained_suggestion(page, jalon_server, screenshots):
    open_page(page, jalon_server)
    assert page.get_attribute("html", "lang") == "fr"
    assert page.is_hidden("#workspace"), "the work area is shown only once signed in"

    # A bad token is refused with a visible French message.
    page.fill("#token", "not-a-token")
    page.click("#signin-submit")
    page.wait_for_selector("#signin-error:not([hidden])")
    assert "Jeton refusé" in page.inner_text("#signin-error")

    page.fill("#token", jalon_server.token)
    page.click("#signin-submit")
    page.wait_for_selector("#workspace:not([hidden])")
    assert page.inner_text("#who-subject") == jalon_server.advisor
    assert page.evaluate("sessionStorage.getItem('jalon.token')") == jalon_server.token
    assert page.evaluate("localStorage.length") == 0

    # The form is generated from the schema: every profile field, labelled, in its group.
    for f in profile_fields():
        control = page.locator(f"#f-{f.name}")
        assert control.count() == 1, f.name
        assert f.label_fr in page.inner_text(f"label[for='f-{f.name}']")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(e => e.type !== 'hidden' && e.labels.length === 0).map(e => e.id || e.name)""")
    assert unlabelled == []
    assert page.locator("#profile-form fieldset > legend").count() >= 5

    s = suggest_example(page)
    assert page.input_value("#f-person_id") == "DE-EXEMPLE-0042"

    # The need: one bar per need, sorted by probability, the suggested one first.
    rows = page.locator("#need-bars li")
    assert rows.count() == len(s["need"]["distribution"]) == len(NEEDS)
    shown = [percent(rows.nth(i).locator(".pct").inner_text()) for i in range(rows.count())]
    assert shown == sorted(shown, reverse=True)
    assert rows.first.get_attribute("data-code") == s["need"]["code"]
    assert page.inner_text("#need-label") == s["need"]["label_fr"]
    # The confidence is visible next to the suggestion, and so is the tier with its probability.
    assert percent(page.inner_text("#need-prob")) == round(s["need"]["probability"] * 100)
    assert s["employability"]["tier"] in page.inner_text("#tier-label")
    assert percent(page.inner_text("#tier-prob")) == round(s["employability"]["probability"] * 100)
    assert page.locator("#tier-band .seg.current").count() == 1
    assert page.inner_text("#s-model") == s["model_version"]

    # The factors: a bar per factor, with what it is, its strength in words and its direction.
    factors = page.locator("#need-factors li.factor")
    assert factors.count() == len(s["explanations"]["need"]["factors"]) > 0
    for i, factor in enumerate(s["explanations"]["need"]["factors"]):
        item = factors.nth(i)
        if factor["field"] not in ("age", "disability_recognition"):
            assert factor["sentence_fr"].startswith(item.locator(".sentence").inner_text())
        value = item.locator(".value").inner_text()
        assert re.match(r"(fort|modéré|faible) ", value)
        if factor["direction"] == "towards":
            assert "▲ rapproche" in value
        else:
            assert "▼ éloigne" in value
        assert item.locator(".bar").bounding_box()["width"] > 0
    assert page.locator("#emp-factors li.factor").count() == len(s["explanations"]["employability"]["factors"])

    # Review warning exactly when the service asks for it.
    assert page.is_visible("#review") == s["needs_review"]
    for reason in s["review_reasons"]:
        assert reason["message_fr"] in page.inner_text("#review-reasons")

    # The recommended path.
    rec = s["recommendation"]
    text = page.inner_text("#recommendation")
    for expected in (
        rec["parcours_label_fr"],
        rec["modality_label_fr"],
        rec["objective_fr"],
        rec["offers"][0]["name_fr"],
        f"{rec['duration_months']} mois",
    ):
        assert expected in text

    # Against automation bias: nothing pre-selected; the model's limits one click away.
    assert page.evaluate("document.querySelectorAll('input[name=action]:checked').length") == 0
    assert page.is_hidden("#override-fields")
    assert page.eval_on_selector("#override-need", "e => e.value") == ""
    assert page.eval_on_selector("#override-tier", "e => e.value") == ""
    assert not page.is_visible(f"text={KNOWN_LIMITS[1]['fr']}")
    page.click("#model-card summary")
    assert page.is_visible(f"text={KNOWN_LIMITS[1]['fr']}")
    assert page.is_visible(f"text={OVERSIGHT[2]['fr']}")

    page.screenshot(path=str(screenshots / "advisor-page-full.png"), full_page=True)
    page.locator("#suggestion").screenshot(path=str(screenshots / "suggestion.png"))
    no_foreign_requests(page)


def test_client_side_checks_on_the_profile(page, jalon_server):
    sign_in(page, jalon_server)
    page.click("#load-example")
    page.fill("#f-age", "200")
    page.fill("#f-person_id", "Jean Dupont")
    page.click("#submit-profile")
    page.wait_for_selector("#profile-errors:not([hidden])")
    errors = page.inner_text("#profile-errors")
    assert "Valeur attendue entre 16 et 70" in errors
    assert "identifiant pseudonyme" in errors
    assert page.get_attribute("#f-age", "aria-invalid") == "true"
    assert page.is_hidden("#suggestion")
    no_foreign_requests(page)


def test_override_without_reason_is_refused(page, jalon_server, screenshots):
    sign_in(page, jalon_server)
    s = suggest_example(page)
    page.check("#action-override")
    page.select_option("#override-need", other_need(s["need"]["code"]))

    # Refused in the page, with a visible French message; nothing is sent.
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.url.endswith("/decisions") else None)
    page.click("#submit-decision")
    page.wait_for_selector("#decision-errors:not([hidden])")
    assert "Un motif est obligatoire" in page.inner_text("#decision-errors")
    assert "Choisissez un type de motif" in page.inner_text("#decision-errors")
    assert page.get_attribute("#override-reason", "aria-invalid") == "true"
    assert page.get_attribute("#override-reason-code", "aria-invalid") == "true"
    page.locator(".decision").screenshot(path=str(screenshots / "override-without-reason.png"))
    assert sent == []
    page.select_option("#override-reason-code", "NEW_INFORMATION")

    # Whitespace is not a reason either.
    page.fill("#override-reason", "   ")
    page.click("#submit-decision")
    assert "Un motif est obligatoire" in page.inner_text("#decision-errors")
    assert sent == []

    # If a request without a reason reaches the service anyway, its 400 is shown too.
    def strip_reason(route):
        body = json.loads(route.request.post_data)
        body.pop("reason", None)
        route.continue_(post_data=json.dumps(body))

    page.route("**/decisions", strip_reason)
    page.fill("#override-reason", "motif retiré en route")
    with page.expect_response("**/decisions") as info:
        page.click("#submit-decision")
    assert info.value.status == 400
    page.wait_for_selector("#decision-server-message:not([hidden])")
    assert "Un motif est obligatoire" in page.inner_text("#decision-error-list")
    assert "an override needs a reason" in page.inner_text("#decision-server-message")
    page.unroute("**/decisions")

    assert decisions_for(jalon_server, s["suggestion_id"]) == []
    assert page.is_hidden("#decision-result")
    no_foreign_requests(page)


def test_override_with_reason_is_stored_and_reported(page, jalon_server, screenshots):
    sign_in(page, jalon_server)
    s = suggest_example(page)
    new_need = other_need(s["need"]["code"])
    new_tier = "C" if s["employability"]["tier"] != "C" else "B"
    reason = "La personne veut d'abord se qualifier <pas de balise>"
    page.check("#action-override")
    page.select_option("#override-need", new_need)
    page.select_option("#override-tier", new_tier)
    page.select_option("#override-reason-code", "PERSON_PROJECT")
    page.fill("#override-reason", reason)
    with page.expect_response("**/decisions") as info:
        page.click("#submit-decision")
    assert info.value.status == 200
    out = info.value.json()
    page.wait_for_selector("#decision-result:not([hidden])")
    result = page.inner_text("#decision-result")
    assert out["decision_id"] in result
    assert NEEDS[new_need] in result
    assert f"{new_tier} — " in result
    assert reason in result
    assert "Projet professionnel exprimé par la personne" in result
    assert "Jalon" in result
    assert out["milestone_date"][:4] in result

    # Recorded in the database, as decided.
    decisions = decisions_for(jalon_server, s["suggestion_id"])
    assert len(decisions) == 1
    d = decisions[0]
    assert (d.action, d.final_need, d.final_tier, d.reason, d.reason_code, d.advisor_id, d.actor) == (
        "override",
        new_need,
        new_tier,
        reason,
        "PERSON_PROJECT",
        jalon_server.advisor,
        jalon_server.advisor,
    )
    assert d.decision_id == out["decision_id"]

    # « Mes décisions récentes » is refreshed with it; the form is ready for a revision, unselected.
    page.wait_for_selector(f"#recent-body tr[data-decision-id='{d.decision_id}']")
    assert "Modifiée" in page.inner_text(f"#recent-body tr[data-decision-id='{d.decision_id}']")
    assert page.evaluate("document.querySelectorAll('input[name=action]:checked').length") == 0
    page.locator(".decision").screenshot(path=str(screenshots / "decision-recorded.png"))

    # The person's report opens (fetched with the token) and lists the factors, never a protected one.
    with page.context.expect_page() as popup:
        page.click("#open-report")
    report = popup.value
    report.wait_for_load_state()
    report.wait_for_selector("#s-factors")
    text = report.inner_text("body")
    assert "Votre conseiller·ère a modifié la suggestion" in text
    assert NEEDS[new_need] in text
    assert reason in text
    for factor in s["explanations"]["need"]["factors"][:3]:
        if not factor.get("protected") and factor["field"] not in (
            "sex",
            "nationality_group",
            "age",
            "disability_recognition",
        ):
            assert factor["sentence_fr"] in text
    assert "L311-3-1" in text
    assert "article 22" in text
    assert "réexamen" in text
    assert report.evaluate("getComputedStyle(document.querySelector('h1')).color") == "rgb(18, 63, 122)", (
        "the report's inline style must be allowed by its Content-Security-Policy"
    )
    report.screenshot(path=str(screenshots / "person-report.png"), full_page=True)
    report.close()
    no_foreign_requests(page)


def test_keyboard_only(page, jalon_server, screenshots):
    """Sign in, load the example, submit and confirm with the keyboard alone."""
    open_page(page, jalon_server)
    kb = page.keyboard

    def active() -> str:
        return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.tagName)")

    def tab_to(element_id: str, limit: int = 120) -> None:
        for _ in range(limit):
            if active() == element_id:
                return
            kb.press("Tab")
        raise AssertionError(f"#{element_id} is not reachable with Tab (stuck on {active()})")

    page.focus("body")
    tab_to("token")
    kb.type(jalon_server.token)
    kb.press("Enter")
    page.wait_for_selector("#workspace:not([hidden])")

    tab_to("load-example")
    kb.press("Enter")
    page.wait_for_function("document.getElementById('f-person_id').value !== ''")
    tab_to("person-view")
    kb.press("ArrowDown")  # the person's own view, asked first: « Retour direct à l'emploi »
    assert page.input_value("#person-view") != ""
    tab_to("f-person_id")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), "focus must be visible"
    kb.press("Enter")  # Enter in a field submits the profile
    page.wait_for_selector("#suggestion:not([hidden])")
    assert active() == "suggestion-title", "focus moves to the suggestion"
    sid = page.inner_text("#s-id")

    tab_to("action-confirm")
    kb.press("Space")
    assert page.is_checked("#action-confirm")
    tab_to("submit-decision")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") not in ("", "none")
    page.screenshot(path=str(screenshots / "keyboard-focus.png"))
    kb.press("Enter")
    page.wait_for_selector("#decision-result:not([hidden])")
    assert "Suggestion confirmée" in page.inner_text("#decision-result")

    decisions = decisions_for(jalon_server, sid)
    assert [(d.action, d.advisor_id) for d in decisions] == [("confirm", jalon_server.advisor)]
    no_foreign_requests(page)


def with_reference(profile: dict) -> dict:
    """The profile as the page sends it: rate and tension from the reference table (not typed)."""
    from features.reference import load_reference

    found = load_reference().lookup(profile["agency_id"], profile["target_occupation_domain"])
    return {**profile, **{k: v for k, v in found.items() if v is not None}}


def fill_profile(page, profile: dict) -> None:
    """Type a profile into the generated form, field by field, as an advisor would."""
    for f in profile_fields():
        value = profile.get(f.name)
        selector = f"#f-{f.name}"
        if page.eval_on_selector(selector, "e => e.readOnly"):
            continue  # filled by the page from the reference table
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        else:
            text = str(value)
        if page.eval_on_selector(selector, "e => e.tagName") == "SELECT":
            page.select_option(selector, value=text)
        else:
            page.fill(selector, text)


def test_flagged_profile_shows_the_review_warning(page, jalon_server, records, screenshots):
    """A real profile that the service flags for review: typed into the form, warned about on the page."""
    import httpx

    response = httpx.post(
        f"{jalon_server.url}/suggest_batch",
        json={"profiles": [with_reference(r) for r in records[:60]]},
        headers={"Authorization": f"Bearer {jalon_server.token}"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    flagged = next((i for i, s in enumerate(response.json()["suggestions"]) if s["needs_review"]), None)
    assert flagged is not None, "no flagged profile among the first 60 records"

    sign_in(page, jalon_server)
    page.select_option("#person-view", "UNKNOWN")
    fill_profile(page, with_reference(records[flagged]))
    with page.expect_response("**/suggest") as info:
        page.click("#submit-profile")
    assert info.value.status == 200, info.value.text()
    s = info.value.json()
    assert s["needs_review"]
    assert s["review_reasons"]
    page.wait_for_selector("#review:not([hidden])")
    shown = page.inner_text("#review")
    assert "À examiner avec une attention particulière" in shown
    for reason in s["review_reasons"]:
        assert reason["message_fr"] in shown
    page.locator("#suggestion").screenshot(path=str(screenshots / "suggestion-flagged.png"))
    no_foreign_requests(page)
