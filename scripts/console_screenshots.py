"""Screenshots of every console page for docs/console.md, taken in the machine's Chromium.

Run against a server with freshly seeded demo data (it makes edits through the pages):

    rm -f /tmp/shots.db
    export DATABASE_URL=sqlite+aiosqlite:////tmp/shots.db
    .venv/bin/switchboard migrate && .venv/bin/switchboard seed
    .venv/bin/switchboard serve --port 8765 &
    .venv/bin/python scripts/console_screenshots.py http://127.0.0.1:8765 docs/img
"""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def sign_in(page: Page, base: str, who: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(who)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def leave(page: Page, base: str, person_index: int, day: date, out: Path | None) -> None:
    page.goto(f"{base}/rota/support-ja/edit/leave")
    page.get_by_label("Who is on leave").select_option(index=person_index)
    page.get_by_label("From (date)").fill(day.isoformat())
    page.get_by_label("Until (date)").fill(day.isoformat())
    page.locator("input[name=whole_days]").check()
    page.get_by_label("Reason (optional)").fill("training course")
    page.get_by_role("button", name="Preview").click()
    if out is not None:
        page.screenshot(path=out, full_page=True)
    page.get_by_role("button", name="Apply this change").click()


def main(base: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/login")
        page.screenshot(path=folder / "login.png")
        sign_in(page, base, "scheduler@example.com", "demo-scheduler-password")
        page.screenshot(path=folder / "teams.png", full_page=True)

        # Two of the three Japanese specialists away on the same day: the second opens a gap.
        page.goto(f"{base}/rota/support-ja?view=week")
        monday = date.fromisoformat(
            page.get_by_role("link", name="Next →").get_attribute("href").split("start=")[1][:10]  # type: ignore[union-attr]
        )
        wednesday = monday + timedelta(days=2)
        leave(page, base, 1, wednesday, None)
        leave(page, base, 2, wednesday, folder / "leave-preview.png")
        page.screenshot(path=folder / "calendar-week.png", full_page=True)

        page.goto(f"{base}/rota/support-en?start={monday.isoformat()}")
        summary = page.locator("td.weekend details.shift summary").first
        summary.click()
        page.screenshot(path=folder / "shift-actions.png", clip={"x": 0, "y": 0, "width": 1280, "height": 560})
        page.locator("details.shift[open]").get_by_role("link", name="Cover it").click()
        covered = page.get_by_label("Whose shift is covered").locator("option:checked").inner_text()
        substitute = page.get_by_label("Who covers it")
        others = [o for o in substitute.locator("option").all_inner_texts() if o not in ("Choose…", covered)]
        substitute.select_option(label="Chris Okafor" if "Chris Okafor" in others else others[0])
        page.get_by_role("button", name="Preview").click()
        page.screenshot(path=folder / "cover-preview.png", full_page=True)

        page.goto(f"{base}/rota/support-en?view=4w")
        page.screenshot(path=folder / "calendar-4weeks.png", full_page=True)
        page.goto(f"{base}/rota/support-de?start=2027-03-22")
        page.screenshot(path=folder / "dst-week.png", full_page=True)

        # A stale edit: the form was open while the team's settings changed.
        page.goto(f"{base}/rota/support-fr/edit/leave")
        page.get_by_label("Who is on leave").select_option(index=1)
        page.get_by_label("From (date)").fill((monday + timedelta(days=3)).isoformat())
        page.get_by_label("Reason (optional)").fill("doctor")
        other = browser.new_page()
        sign_in(other, base, "admin@example.com", "demo-admin-password")
        other.goto(f"{base}/rota/support-fr/settings")
        other.get_by_label("Name").fill("French support desk")
        other.get_by_role("button", name="Preview").click()
        other.get_by_role("button", name="Apply this change").click()
        page.get_by_role("button", name="Preview").click()
        page.screenshot(path=folder / "stale-edit.png", full_page=True)

        for name, path in [
            ("rotations", "/rota/support-en/rotations"),
            ("rotation-edit", "/rota/support-en/rotations/2"),
            ("people", "/rota/support-en/people"),
            ("settings", "/rota/support-en/settings"),
            ("ledger", "/rota/support-en/ledger"),
            ("audit", "/rota/support-ja/audit"),
        ]:
            page.goto(base + path)
            page.screenshot(path=folder / f"{name}.png", full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        sign_in(phone, base, "scheduler@example.com", "demo-scheduler-password")
        phone.goto(f"{base}/rota/support-ja?start={monday.isoformat()}")
        phone.screenshot(path=folder / "calendar-phone.png")

        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_in(admin, base, "admin@example.com", "demo-admin-password")
        admin.goto(f"{base}/admin/users")
        admin.screenshot(path=folder / "admin-users.png", full_page=True)
        admin.goto(f"{base}/account")
        admin.screenshot(path=folder / "account.png", full_page=True)

        viewer = browser.new_page(viewport={"width": 1280, "height": 500})
        sign_in(viewer, base, "viewer@example.com", "demo-viewer-password")
        viewer.goto(f"{base}/rota")
        viewer.screenshot(path=folder / "forbidden.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
