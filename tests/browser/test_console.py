"""The console in real Chromium: sign-in, roles, the calendar, edits with preview, stale edits."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from playwright.sync_api import Page, expect

from tests.browser.conftest import Server, sign_in


def test_sign_in_and_out(page: Page, server: Server) -> None:
    page.goto(server.url)
    expect(page).to_have_url(f"{server.url}/login")
    sign_in(page, server, "scheduler")
    expect(page).to_have_url(f"{server.url}/rota")
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("Sam Scheduler")
    expect(page.locator(".who")).to_contain_text("scheduler")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto(f"{server.url}/rota")
    expect(page).to_have_url(re.compile(r"/login\?next=/rota$"))


def test_a_wrong_password(page: Page, server: Server) -> None:
    sign_in(page, server, "admin", "not-the-admin-password")
    expect(page.get_by_role("alert")).to_contain_text("do not match an active account")
    expect(page.get_by_label("Email")).to_have_value("admin@example.com")


def test_a_throttled_sign_in(page: Page, server: Server) -> None:
    for _ in range(5):
        sign_in(page, server, "viewer", "guessing-the-password")
        expect(page.get_by_role("alert")).to_contain_text("do not match")
    sign_in(page, server, "viewer")  # the right password, too late
    expect(page.get_by_role("alert")).to_contain_text(
        "Too many failed sign-ins for this account. Try again in 15 minutes"
    )


def test_a_role_forbidden_a_page(page: Page, server: Server) -> None:
    sign_in(page, server, "maya")
    # A specialist lands on their desk (docs/desk-and-wallboard.md).
    expect(page.get_by_role("heading", name=re.compile("My desk"))).to_be_visible()
    response = page.goto(f"{server.url}/rota/support-en")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()
    expect(page.get_by_text("you are signed in as a specialist")).to_be_visible()


def _next_weekday(tz: str, weekday: int, country: str) -> date:
    """The next such weekday (not today) that is not a public holiday of the country."""
    day = datetime.now(UTC).astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
    public = holidays.country_holidays(country, years=[day.year, day.year + 1])
    while day.weekday() != weekday or day in public:
        day += timedelta(days=1)
    return day


def test_a_seeded_teams_calendar_shows_a_gap(page: Page, server: Server) -> None:
    # Two of the three Japanese specialists are off on the same day next Wednesday.
    day = _next_weekday("Asia/Tokyo", 2, "JP")
    with server.api() as api:
        people = api.get("/v1/specialists", params={"team": "support-ja"}).json()["items"]
        for person in people[:2]:
            r = api.post(
                "/v1/overrides",
                json={
                    "kind": "leave",
                    "specialist_id": person["id"],
                    "reason": "training",
                    "start": f"{day}T00:00:00+09:00",
                    "end": f"{day}T23:59:00+09:00",
                },
            )
            assert r.status_code == 201, r.text
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/support-ja?start={day - timedelta(days=day.weekday())}")
    expect(page.get_by_text(re.compile(r"\d+ coverage gaps? in this period"))).to_be_visible()
    header = page.locator("thead th", has_text=day.strftime("%a %-d %b"))
    expect(header.locator(".gaps-line")).to_have_text("gap 09:00–18:00 (1 of 2)")
    expect(header.locator(".strip .h.gap")).to_have_count(9)
    expect(page.locator("tbody .badge.leave")).to_have_count(2)


def test_a_spring_forward_week(page: Page, server: Server) -> None:
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/support-de?start=2027-03-22")
    sunday = page.locator("thead th", has_text="Sun 28 Mar")
    saturday = page.locator("thead th", has_text="Sat 27 Mar")
    expect(sunday).to_contain_text("23 h day: clocks go forward")
    expect(sunday.locator(".strip .h")).to_have_count(23)
    expect(saturday.locator(".strip .h")).to_have_count(24)
    # Every hour is drawn as wide as any other, so a 23-hour day's strip is visibly shorter.
    short = sunday.locator(".strip .h").first.bounding_box()
    normal = saturday.locator(".strip .h").first.bounding_box()
    assert short and normal and abs(short["width"] - normal["width"]) < 0.5
    # Monday's shifts keep their wall-clock times after the change.
    expect(page.locator("tbody td").filter(has_text="08:00–17:00").first).to_be_visible()


def test_creating_a_cover_with_its_preview(page: Page, server: Server) -> None:
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/support-en")
    page.get_by_role("link", name="Next →").click()
    shift = page.locator("td.weekend details.shift").first
    shift.locator("summary").click()
    shift.get_by_role("link", name="Cover it").click()
    expect(page.get_by_role("heading", name=re.compile("Cover a shift"))).to_be_visible()
    covered = page.get_by_label("Whose shift is covered")
    covered_name = covered.locator("option:checked").inner_text()
    substitute = page.get_by_label("Who covers it")
    options = [
        o
        for o in substitute.locator("option").all_inner_texts()
        if o not in ("Choose…", covered_name)
    ]
    substitute.select_option(label=options[0])
    page.get_by_label("Reason (optional)").fill("family event")
    page.get_by_role("button", name="Preview").click()
    preview = page.locator(".preview")
    expect(preview).to_contain_text(f"{options[0]} covers {covered_name}")
    expect(preview.locator("li.added").first).to_contain_text(f"covering {covered_name}")
    # The covered shift leaves the rota (a weekday the substitute now takes off in lieu may
    # be listed before it, and the covered person's own day in lieu among the days off).
    removed = preview.locator("li.removed").filter(has_not_text="day off in lieu")
    expect(removed.filter(has_text=f"{covered_name}: ")).to_have_count(1)
    page.get_by_role("button", name="Apply this change").click()
    expect(page.locator(".flash-ok").first).to_contain_text(
        f"Saved: {options[0]} covers {covered_name}"
    )
    expect(page.locator(".shift.cover", has_text=f"covers {covered_name}")).to_be_visible()
    expect(page.locator(".shift.covered", has_text=f"covered by {options[0]}")).to_be_visible()


def test_a_stale_edit(page: Page, server: Server) -> None:
    sign_in(page, server, "scheduler")
    page.goto(f"{server.url}/rota/support-fr/edit/leave")
    page.get_by_label("Who is on leave").select_option(index=1)
    who = page.get_by_label("Who is on leave").locator("option:checked").inner_text()
    day = _next_weekday("Europe/Paris", 3, "FR")
    page.get_by_label("From (date)").fill(day.isoformat())
    page.get_by_label("From (time)").fill("09:00")
    page.get_by_label("Until (time)").fill("13:00")
    page.get_by_label("Reason (optional)").fill("doctor")
    # Meanwhile another scheduler changes the team's settings through the API.
    with server.api() as api:
        current = api.get("/v1/teams/support-fr")
        body = current.json()
        put = api.put(
            "/v1/teams/support-fr",
            headers={"If-Match": current.headers["etag"]},
            json={
                k: body[k]
                for k in ("slug", "name", "time_zone", "languages", "coverage", "holidays")
            }
            | {"name": "French support desk"},
        )
        assert put.status_code == 200, put.text
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        "Someone else changed this team while you were editing"
    )
    expect(page.get_by_label("Reason (optional)")).to_have_value("doctor")
    expect(page.get_by_label("From (date)")).to_have_value(day.isoformat())
    expect(page.get_by_label("Who is on leave").locator("option:checked")).to_have_text(who)
    expect(page.get_by_role("heading", name="The team's current week")).to_be_visible()
    # The page now holds the current state: previewing again works.
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview")).to_contain_text(f"{who} is on leave")
