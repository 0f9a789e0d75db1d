"""Two people of different teams draft a model, compare it with the live one, approve it, and
see scores and explanations change across the base."""

from __future__ import annotations

import pytest

from accord.scoring.services import scores_rescore
from tests.conftest import PASSWORD
from tests.scoring.helpers import contact, fit, live_model

pytestmark = [pytest.mark.browser]


def sign_in(page, base, user, then):
    page.goto(f"{base}/login/?next={then}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{then}")


def test_marketing_drafts_sales_approves_and_scores_change(transactional_db, live_server, browser, marketer, rep):
    live_model(marketer, [fit("VPs", "seniority", "in", ["vp"], 30)], name="Old score", grade="B", score=50)
    director = contact(seniority="director", first_name="Dana", last_name="Director")
    scores_rescore()
    base = live_server.url

    mk = browser.new_context().new_page()
    mk.set_default_timeout(10_000)
    sign_in(mk, base, marketer, "/scoring/")
    mk.fill("input[name=name]", "Directors count")
    mk.click("text=New draft")
    mk.wait_for_url("**/edit/")
    mk.select_option("select[name=rule-1-kind]", "fit")
    mk.fill("input[name=rule-1-label]", "Directors")
    mk.select_option("select[name=rule-1-field]", "seniority")
    mk.select_option("select[name=rule-1-operator]", "in")
    mk.fill("input[name=rule-1-value]", "director")
    mk.fill("input[name=rule-1-points]", "25")
    mk.click("#save")
    mk.wait_for_url("**/scoring/*/")
    mk.click("text=Compare & backtest")
    assert mk.locator("#moved-in").inner_text() == "0"  # MQL line is 50 points: nobody crosses
    mk.go_back()
    mk.click("text=Propose for approval")
    mk.click("#approve")
    assert "waiting for the other side" in mk.content()
    model_url = mk.url

    sales = browser.new_context().new_page()
    sales.set_default_timeout(10_000)
    sign_in(sales, base, rep, model_url.removeprefix(base))
    sales.click("#approve")
    assert "is now active" in sales.content()
    assert sales.locator("#model-status").inner_text() == "Active"

    sales.goto(f"{base}/scoring/contacts/{director.pk}/panel/")
    assert sales.locator("#contact-score").inner_text() == "25"
    assert "Directors" in sales.locator("#score-panel").inner_text()
