"""Screenshots of the planner page for docs/planner.md and docs/console.md (machine's Chromium).

Run against a server with freshly seeded demo data (it proposes and applies plans):

    rm -f /tmp/plan-shots.db
    export DATABASE_URL=sqlite+aiosqlite:////tmp/plan-shots.db
    .venv/bin/switchboard migrate && .venv/bin/switchboard seed
    .venv/bin/switchboard serve --port 8766 &
    .venv/bin/python scripts/planner_screenshots.py http://127.0.0.1:8766 docs/img
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def sign_in(page: Page, base: str, who: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(who)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def propose(page: Page, base: str, team: str, weeks: str, **fields: str) -> str:
    page.goto(f"{base}/planner/{team}")
    page.get_by_label("Weeks", exact=True).select_option(weeks)
    for label, value in fields.items():
        page.get_by_label(label.replace("_", " "), exact=True).fill(value)
    page.get_by_role("button", name="Propose a rota").click()
    expect(page).to_have_url(re.compile(r"/planner/plans/\d+$"), timeout=90_000)
    return page.url


def main(base: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "scheduler@example.com", "demo-scheduler-password")
        page.goto(f"{base}/planner/support-en")
        page.get_by_label("Weeks", exact=True).select_option("2")
        page.locator("details.more").first.locator("summary").click()
        page.screenshot(path=folder / "planner-form.png", full_page=True)
        # The waiting state as the page's script shows it (a real submit navigates away
        # before a screenshot can be taken): the box and the disabled button.
        page.evaluate(
            """() => { document.getElementById("plan-waiting").hidden = false;
                document.querySelector("form.plan-form button[type=submit]").disabled = true; }"""
        )
        page.locator(".submit-row").scroll_into_view_if_needed()
        page.screenshot(path=folder / "planner-waiting.png")
        page.reload()
        page.get_by_label("Weeks", exact=True).select_option("2")
        page.get_by_role("button", name="Propose a rota").click()
        expect(page).to_have_url(re.compile(r"/planner/plans/\d+$"), timeout=90_000)
        plan_url = page.url
        page.screenshot(path=folder / "planner-plan.png", full_page=True)
        page.get_by_role("button", name="Preview what will be written").click()
        page.locator(".preview").scroll_into_view_if_needed()
        page.locator(".apply").screenshot(path=folder / "planner-preview.png")

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        sign_in(phone, base, "scheduler@example.com", "demo-scheduler-password")
        phone.goto(plan_url)
        phone.screenshot(path=folder / "planner-phone.png")
        phone.goto(f"{base}/planner/support-en")
        phone.screenshot(path=folder / "planner-form-phone.png", full_page=True)

        propose(page, base, "support-uk", "1", **{"Most_hours_per_week": "16"})
        page.screenshot(
            path=folder / "planner-infeasible.png",
            clip={"x": 0, "y": 0, "width": 1280, "height": 700},
        )

        page.goto(plan_url)
        page.get_by_role("button", name="Preview what will be written").click()
        page.get_by_role("button", name="Apply this plan").click()
        page.wait_for_url(re.compile(r"/rota/support-en"))
        page.screenshot(
            path=folder / "planner-applied.png", clip={"x": 0, "y": 0, "width": 1280, "height": 900}
        )

        viewer = browser.new_page(viewport={"width": 1280, "height": 700})
        sign_in(viewer, base, "viewer@example.com", "demo-viewer-password")
        viewer.goto(f"{base}/planner")
        viewer.screenshot(path=folder / "planner-viewer.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
