"""`PUT /v1/specialists:bulk` and `switchboard specialists import FILE.csv`."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import main
from app.core.db import Database
from app.models.rota import Team
from tests.conftest import Keys
from tests.rota_api.helpers import Api, assert_problem, audit_count, rota_state

URL = "/v1/specialists:bulk"


def person(name: str, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "name": name,
        "contact": "+14155550100",
        "time_zone": "America/Mexico_City",
        "languages": ["es", "en"],
        "skills": ["billing"],
        "teams": ["support-es"],
    }
    row.update(changes)
    return row


@pytest.fixture
async def api(client: httpx.AsyncClient, keys: Keys) -> Api:
    api = Api(client, await keys.headers("scheduler"))
    await api.team("support-es", "America/Mexico_City", languages=["es"])
    await api.team("support-en", languages=["en"])
    return api


async def put(api: Api, rows: list[dict[str, Any]], **params: str) -> httpx.Response:
    return await api.client.put(URL, json={"specialists": rows}, params=params, headers=api.h)


async def test_create_then_update_by_email_or_external_ref(api: Api, db: Database) -> None:
    rows = [
        person("Lucía Hernández", email="Lucia@Example.com"),
        person("Mateo García", external_ref="hr-1002", teams=["support-es", "support-en"]),
    ]
    first = await put(api, rows)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (2, 0, 0)
    lucia, mateo = body["specialists"]
    assert lucia["email"] == "lucia@example.com" and lucia["teams"] == ["support-es"]
    assert mateo["external_ref"] == "hr-1002"
    assert sorted(mateo["teams"]) == ["support-en", "support-es"]
    audits = await audit_count(db)

    again = await put(api, rows)
    assert again.json()["unchanged"] == 2
    assert await audit_count(db) == audits  # nothing changed, nothing audited

    rows[0] = person("Lucía Hernández Ruiz", email="lucia@example.com", teams=["support-en"])
    rows[1]["email"] = "mateo@example.com"  # now matched by external_ref, gains an email
    changed = await put(api, rows)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["created"], changed.json()["updated"]) == (0, 2)
    again_lucia = (await api.get(f"/v1/specialists/{lucia['id']}")).json()
    assert again_lucia["name"] == "Lucía Hernández Ruiz" and again_lucia["teams"] == ["support-en"]
    assert (await api.get(f"/v1/specialists/{mateo['id']}")).json()["email"] == "mateo@example.com"
    assert await audit_count(db) == audits + 2
    listed = (await api.get("/v1/specialists")).json()["items"]
    assert len(listed) == 2


async def test_every_bad_row_is_reported_and_nothing_is_written(api: Api, db: Database) -> None:
    await put(api, [person("Ana", email="ana@example.com"), person("Bea", external_ref="b")])
    before = await rota_state(db)
    rows = [
        person("Good", email="good@example.com"),
        person("No key"),
        person("Bad email", email="not-an-email"),
        person("Unknown team", email="u@example.com", teams=["support-xx"]),
        person("Twice", email="good@example.com"),
        person("Bad zone", email="z@example.com", time_zone="Mars/Olympus"),
        person("Two people", email="ana@example.com", external_ref="b"),
        {"name": "Missing fields", "email": "m@example.com"},
    ]
    answer = await put(api, rows)
    body = assert_problem(answer, 422)
    assert body["detail"] == "7 invalid row(s); nothing was written"
    rows_reported = {e["field"].split(".")[1] for e in body["errors"]}
    assert rows_reported == {f"specialists[{i}]" for i in range(1, 8)}
    fields = {e["field"] for e in body["errors"]}
    assert "body.specialists[3].teams.0" in fields
    assert "body.specialists[4].email" in fields
    assert "body.specialists[5].time_zone" in fields
    assert await rota_state(db) == before


async def test_leaving_a_team_whose_rotation_lists_the_person_is_refused(api: Api) -> None:
    created = await put(api, [person("Ana", email="ana@example.com")])
    ana = created.json()["specialists"][0]["id"]
    await api.rotation("support-es", [ana])
    answer = await put(api, [person("Ana", email="ana@example.com", teams=["support-en"])])
    assert_problem(answer, 422, field="body.specialists[0].teams")


async def test_dry_run_shows_the_change_and_writes_nothing(api: Api, db: Database) -> None:
    before = await rota_state(db)
    answer = await put(api, [person("Ana", email="ana@example.com")], dry_run="true")
    assert answer.status_code == 200, answer.text
    assert answer.json()["resource"]["created"] == 1
    assert "added" in answer.json()
    assert await rota_state(db) == before


async def test_only_admins_and_schedulers_upload(api: Api, keys: Keys) -> None:
    for role in ("specialist", "viewer"):
        headers = await keys.headers(role)
        refused = await api.client.put(
            URL, json={"specialists": [person("Ana", email="a@example.com")]}, headers=headers
        )
        assert refused.status_code == 403
    assert_problem(await api.client.put(URL, json={"specialists": []}, headers=api.h), 422)


CSV = "\n".join(
    [
        "name,email,external_ref,contact,time_zone,languages,skills,teams,active",
        "Lucía Hernández,lucia@example.com,,+525512345678,America/Mexico_City,es en,"
        "billing;payments,support-es,yes",
        "Mateo García,,hr-1002,client:mateo,America/Mexico_City,es,,support-es support-en,",
        "",
    ]
)


def test_import_a_csv_file_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["specialists", "import", str(tmp_path / "missing.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    good = tmp_path / "people.csv"
    good.write_text(CSV, encoding="utf-8")
    # The teams do not exist yet: every row is reported with its line in the file.
    assert main(["specialists", "import", str(good)]) == 1
    err = capsys.readouterr().err
    assert "2 invalid row(s); nothing was written" in err
    assert f"{good}:2: teams.0: team 'support-es' does not exist" in err
    assert f"{good}:3: teams.1: team 'support-en' does not exist" in err

    async def teams() -> None:
        db = Database.from_url(f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
        now = datetime.now(UTC)
        async with db.transaction() as session:
            for slug in ("support-es", "support-en"):
                session.add(
                    Team(
                        slug=slug,
                        name=slug,
                        tz="UTC",
                        languages=[],
                        coverage=[],
                        calendar_token=secrets.token_urlsafe(8),
                        created_at=now,
                        updated_at=now,
                    )
                )
        await db.dispose()

    asyncio.run(teams())
    assert main(["specialists", "import", "--dry-run", str(good)]) == 0
    assert "nothing was written" in capsys.readouterr().out
    assert main(["specialists", "import", str(good)]) == 0
    assert "specialists: 2 created, 0 updated, 0 unchanged" in capsys.readouterr().out
    assert main(["specialists", "import", str(good)]) == 0
    assert "specialists: 0 created, 0 updated, 2 unchanged" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("name,colour\nAna,red\n", encoding="utf-8")
    assert main(["specialists", "import", str(bad)]) == 2
    assert "unknown column(s) colour" in capsys.readouterr().err
