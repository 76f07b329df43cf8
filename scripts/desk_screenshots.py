"""The desk, wallboard, calendar and swap screenshots of docs/desk-and-wallboard.md, taken
in the machine's Chromium against a freshly started demo server, the way the docs' "Try it
with the demo data" walks through it (it is also that walk-through, checked end to end):

    PORT=8000 ./scripts/start &          # a fresh clone: migrate, seed, demo calls, serve
    .venv/bin/python scripts/desk_screenshots.py http://127.0.0.1:8000 docs/img

Maya signs in and sets herself available; the others on shift in support-en are set away
so that the call rings her alone; `scripts/demo-ring` rings the line with signed webhooks;
her desk pops, the wallboard and the team calendar move. Then Maya asks Chris to take a
shift, Chris accepts on his desk, and a scheduler approves it on /swaps.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _admin_key() -> str:
    made = subprocess.run(
        [
            str(ROOT / ".venv/bin/switchboard"),
            "api-keys",
            "create",
            "--role",
            "admin",
            "--name",
            "desk screenshots",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return next(w for w in made.stdout.split() if w.startswith("sb_")).strip()


def _only_maya(api: httpx.Client) -> int:
    people = api.get("/v1/specialists", params={"limit": 200}).json()["items"]
    maya = next(p["id"] for p in people if p["name"] == "Maya Patel")
    now = datetime.now(UTC)
    on = api.get("/v1/rota/on-shift", params={"at": _iso(now), "team": "support-en"}).json()
    if maya not in {s["specialist_id"] for s in on["on_shift"]}:
        extra = api.post(
            "/v1/overrides",
            params={"allow_past": "true"},
            json={
                "kind": "extra",
                "specialist_id": maya,
                "team": "support-en",
                "start": _iso(now - timedelta(minutes=5)),
                "end": _iso(now + timedelta(hours=2)),
                "reason": "demo",
            },
        )
        extra.raise_for_status()
        on = api.get("/v1/rota/on-shift", params={"at": _iso(now), "team": "support-en"}).json()
    for s in on["on_shift"]:
        if s["specialist_id"] != maya:
            api.put(
                f"/v1/specialists/{s['specialist_id']}/availability", json={"availability": "away"}
            ).raise_for_status()
    return int(maya)


def _sign_in(browser: Any, base: str, email: str, password: str, viewport: dict[str, int]) -> Page:
    page: Page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(f"{base}/login")
    return page


def _ring() -> subprocess.Popen[str]:
    ring = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/demo-ring")],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert ring.stdout is not None
    for line in ring.stdout:
        print("demo-ring:", line.rstrip())
        if line.startswith(("ringing:", "not rung", "waiting in the queue")):
            break
    return ring


def main(base: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {_admin_key()}"})
    maya = _only_maya(api)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desk = _sign_in(browser, base, "maya@example.com", "demo-specialist-password", WIDE)
        desk.goto(f"{base}/desk")
        desk.get_by_label("Available").check()
        desk.get_by_role("button", name="Set").click()
        expect(desk.locator("#desk")).to_have_attribute("data-live", "yes")
        board = _sign_in(browser, base, "viewer@example.com", "demo-viewer-password", WIDE)
        board.goto(f"{base}/wallboard")
        expect(board.locator("#tiles")).to_have_attribute("data-live", "yes")
        cal = _sign_in(browser, base, "scheduler@example.com", "demo-scheduler-password", WIDE)
        cal.goto(f"{base}/rota/support-en")
        expect(cal.locator("#on-now")).to_have_attribute("data-live", "yes")

        ring = _ring()
        expect(desk.locator("#pop")).to_be_visible()
        desk.screenshot(path=folder / "desk-pop.png", full_page=False)
        status = cal.locator(f'#on-now [data-specialist="{maya}"] .presence')
        expect(status).to_have_text("ringing")
        cal.locator("#on-now").screenshot(path=folder / "calendar-on-now.png")
        second = _ring()  # nobody else is free: this caller waits in the queue
        tile = board.locator('.tile[data-team="support-en"] [data-figure="waiting"]')
        expect(tile).to_have_text("1")
        board.screenshot(path=folder / "wallboard.png", full_page=True)
        for r in (second, ring):
            assert r.stdin is not None
            r.stdin.write("\n")
            r.stdin.flush()
            r.wait(timeout=30)
        expect(desk.locator("#pop")).to_be_hidden()

        # A swap that waits for a scheduler.
        swaps = cal
        swaps.goto(f"{base}/swaps")
        swaps.locator('#approval-rules tr[data-team="support-en"]').get_by_role(
            "button", name="Require approval"
        ).click()
        desk.goto(f"{base}/desk")
        options = desk.locator('select[name="shift"] option')
        chris = next(
            p["id"]
            for p in api.get("/v1/specialists", params={"limit": 200}).json()["items"]
            if p["name"] == "Chris Okafor"
        )
        for index in range(options.count()):
            team, start, end = (options.nth(index).get_attribute("value") or "").split("|")
            sched = api.get("/v1/rota/schedule", params={"start": start, "end": end}).json()
            busy = {s["specialist_id"] for s in sched["shifts"]}
            busy |= {d["specialist_id"] for d in sched["days_off"]}
            if team == "support-en" and chris not in busy:
                break
        else:
            raise SystemExit("Chris is never free for one of Maya's shifts")
        desk.locator('select[name="shift"]').select_option(index=index)
        desk.locator('select[name="teammate_id"]').select_option(label="Chris Okafor")
        desk.locator('select[name="kind"]').select_option("ask")
        desk.locator('input[name="note"]').fill("school play, back by 6")
        desk.get_by_role("button", name="Send request").click()
        mate = _sign_in(browser, base, "chris@example.com", "demo-specialist-password", WIDE)
        mate.goto(f"{base}/desk")
        mate.locator(".swaps li", has_text="Maya Patel").get_by_role(
            "button", name="Accept"
        ).first.click()
        swaps.goto(f"{base}/swaps")
        expect(swaps.locator("#awaiting .swap-card")).to_have_count(1)
        swaps.screenshot(path=folder / "swaps-1280.png", full_page=True)
        phone = _sign_in(browser, base, "scheduler@example.com", "demo-scheduler-password", PHONE)
        phone.goto(f"{base}/swaps")
        phone.screenshot(path=folder / "swaps-phone.png", full_page=True)
        swaps.locator("#awaiting .swap-card").get_by_role("button", name="Approve").click()
        expect(swaps.locator(".flash-ok")).to_contain_text("Approved")
        swaps.locator('#approval-rules tr[data-team="support-en"]').get_by_role(
            "button", name="Stop asking for approval"
        ).click()
        for s in api.get("/v1/rota/on-shift", params={"at": _iso(datetime.now(UTC))}).json()[
            "on_shift"
        ]:
            api.put(
                f"/v1/specialists/{s['specialist_id']}/availability",
                json={"availability": "available"},
            )
        browser.close()
    print("screenshots written to", folder)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), Path(sys.argv[2]))
