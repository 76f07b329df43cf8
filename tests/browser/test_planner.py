"""The planner page in real Chromium: propose for a small team, compare, preview, apply."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, sign_in

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
SLUG = "planner-lisbon"


def _small_team(server: Server) -> list[int]:
    """Four people on weekdays only, and a weekend the coverage rules ask for."""
    with server.api() as api:
        r = api.post(
            "/v1/teams",
            json={
                "slug": SLUG,
                "name": "Lisbon support",
                "time_zone": "Europe/Lisbon",
                "languages": ["en"],
                "coverage": [
                    {"days": WEEKDAYS, "start": "09:00", "end": "17:00", "min_staff": 2},
                    {"days": ["sat", "sun"], "start": "10:00", "end": "16:00", "min_staff": 1},
                ],
            },
        )
        assert r.status_code == 201, r.text
        people = []
        for name in ("Inês Costa", "Rui Alves", "Marta Sousa", "Tiago Lopes"):
            r = api.post(
                "/v1/specialists",
                json={
                    "name": name,
                    "contact": "+351210000000",
                    "time_zone": "Europe/Lisbon",
                    "languages": ["en", "pt"],
                    "skills": [],
                    "teams": [SLUG],
                },
            )
            assert r.status_code == 201, r.text
            people.append(r.json()["id"])
        since = (datetime.now(UTC) - timedelta(weeks=3)).isoformat()
        r = api.post(
            "/v1/rotations",
            params={"allow_past": "true"},
            json={
                "team": SLUG,
                "name": "weekdays",
                "members": people,
                "days": WEEKDAYS,
                "start": "09:00",
                "end": "17:00",
                "effective_from": since,
            },
        )
        assert r.status_code == 201, r.text
    return people


def test_a_scheduler_plans_a_small_team_and_applies_it(page: Page, server: Server) -> None:
    _small_team(server)
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/{SLUG}")
    page.get_by_role("link", name="Plan a rota").click()
    expect(
        page.get_by_role("heading", name=re.compile("Plan a rota: Lisbon support"))
    ).to_be_visible()
    monday = page.get_by_label("First Monday").input_value()
    page.get_by_label("Weeks", exact=True).select_option("2")
    page.get_by_label("Weekend days per person per week").select_option("1")
    page.get_by_label("Solver time limit (seconds)").fill("10")
    # While the solver works the page says so and keeps the button from a second click
    # (recorded in sessionStorage, which outlives the navigation to the answer).
    page.evaluate(
        """() => document.querySelector("form.plan-form").addEventListener("submit", () =>
            setTimeout(() => sessionStorage.setItem("waiting", JSON.stringify([
                !document.getElementById("plan-waiting").hidden,
                document.querySelector("form.plan-form button[type=submit]").disabled,
                document.getElementById("plan-waiting").textContent.trim(),
            ])), 0))"""
    )
    page.get_by_role("button", name="Propose a rota").click()
    expect(page).to_have_url(re.compile(r"/planner/plans/\d+$"), timeout=60_000)
    plan_url = page.url
    shown, disabled, text = json.loads(page.evaluate('sessionStorage.getItem("waiting")'))
    assert shown and disabled, (shown, disabled)
    assert "Solving… this takes up to the time limit (10 s)" in text

    expect(page.locator(".solver-status")).to_contain_text(re.compile("Optimal|Feasible"))
    expect(page.get_by_role("heading", name="Current rota beside the plan")).to_be_visible()
    grid = page.locator("table.plan-cal")
    # The weekend is a gap today and covered in the plan; people change days.
    expect(grid.first).to_contain_text("now: gap 10:00–16:00: 1 missing")
    expect(grid.locator(".plan-added").first).to_contain_text("10:00–16:00")
    expect(grid.locator(".shift.covered").first).to_contain_text("removed")
    expect(grid.locator(".badge.lieu").first).to_be_visible()
    expect(page.locator(".dl")).to_contain_text("now 4 → plan 0")

    page.get_by_role("button", name="Preview what will be written").click()
    expect(page.get_by_role("heading", name=re.compile("Applying writes this"))).to_be_visible()
    page.get_by_role("button", name="Apply this plan").click()

    expect(page).to_have_url(re.compile(rf"/rota/{SLUG}\?view=4w&start={monday}"))
    expect(page.get_by_role("status").first).to_contain_text("Applied plan")
    first_week = page.locator("table.cal").first
    saturday = first_week.locator("tbody tr td:nth-child(7)")
    expect(saturday.filter(has_text="10:00–16:00").first).to_be_visible()
    expect(page.get_by_text("No coverage gaps in this period.")).to_have_count(0)
    # The plan now says it was applied, with no apply button.
    page.goto(plan_url)
    expect(page.locator(".apply")).to_contain_text("Applied")
    expect(page.get_by_role("button", name="Preview what will be written")).to_have_count(0)


def test_a_viewer_reads_a_plan_but_cannot_apply_it(page: Page, server: Server) -> None:
    with server.api() as api:
        r = api.post(
            "/v1/teams/support-en/plans",
            json={
                "start": _next_monday().isoformat(),
                "weeks": 1,
                "settings": {"time_limit_seconds": 10},
            },
        )
        assert r.status_code == 201, r.text
        plan_id = r.json()["id"]
    sign_in(page, server, "viewer")
    page.get_by_role("link", name="Planner").click()
    expect(
        page.get_by_text("proposing and applying them is for schedulers and admins")
    ).to_be_visible()
    page.get_by_role("link", name=f"Plan {plan_id}", exact=True).click()
    expect(page.get_by_role("heading", name="Current rota beside the plan")).to_be_visible()
    expect(page.get_by_role("button", name="Preview what will be written")).to_have_count(0)
    expect(page.get_by_role("button", name="Apply this plan")).to_have_count(0)


def _next_monday() -> datetime:
    today = datetime.now(UTC).date()
    return today + timedelta(days=7 - today.weekday())  # type: ignore[return-value]
