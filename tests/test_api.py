"""The JSON API: same rules as the pages, 4xx answers with a JSON body."""

from __future__ import annotations

from tests.helpers import bearer_headers, make_idea, make_process, make_user

NEW_IDEA = {
    "title": "Lernfabrik für Industrie 4.0",
    "body": "Eine Lernfabrik für Auszubildende und Beschäftigte.",
    "region": "dresden",
}


async def test_read_processes_and_ideas(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    author = await make_user(session_factory, sector="civil_society")
    idea = await make_idea(
        session_factory, process, author, title="Reparaturcafés in jeder Kreisstadt"
    )
    processes = (await client.get("/api/processes")).json()
    assert [p["slug"] for p in processes] == ["idz"]
    assert set(processes[0]["active_phases"]) == {"collect", "vote"}
    detail = (await client.get("/api/processes/idz")).json()
    assert detail["ideas"] == 1 and detail["participants_by_sector"]["civil_society"] == 1
    page = (await client.get("/api/processes/idz/ideas", params={"q": "Reparaturcafé"})).json()
    assert page["total"] == 1 and page["items"][0]["id"] == idea.id
    assert page["items"][0]["author_sector"] == "civil_society"
    assert (await client.get(f"/api/ideas/{idea.id}")).json()["title"] == idea.title


async def test_create_vote_withdraw_and_comment_with_a_token(client, session_factory):
    await make_process(session_factory, slug="idz")
    user = await make_user(session_factory)
    headers = await bearer_headers(session_factory, user)
    created = await client.post("/api/processes/idz/ideas", json=NEW_IDEA, headers=headers)
    assert created.status_code == 201, created.text
    idea_id = created.json()["id"]
    vote = await client.post(f"/api/ideas/{idea_id}/vote", headers=headers)
    assert vote.status_code == 201
    assert vote.json() == {
        "idea_id": idea_id,
        "voted": True,
        "vote_count": 1,
        "budget": None,
        "votes_left": None,
    }
    twice = await client.post(f"/api/ideas/{idea_id}/vote", headers=headers)
    assert twice.status_code == 409 and twice.json()["detail"]
    withdrawn = await client.delete(f"/api/ideas/{idea_id}/vote", headers=headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["vote_count"] == 0
    comment = await client.post(
        f"/api/ideas/{idea_id}/comments", json={"body": "Sehr gut."}, headers=headers
    )
    assert comment.status_code == 201
    comments = (await client.get(f"/api/ideas/{idea_id}/comments")).json()
    assert [c["body_html"] for c in comments] == ["<p>Sehr gut.</p>\n"]


async def test_bad_input_gets_4xx_json(client, session_factory, db):
    await make_process(session_factory, slug="idz")
    user = await make_user(session_factory)
    headers = await bearer_headers(session_factory, user)
    invalid = await client.post(
        "/api/processes/idz/ideas",
        json={"title": "x", "body": "", "region": "mars"},
        headers=headers,
    )
    assert invalid.status_code == 422
    assert invalid.json()["error"] == "invalid_input"
    assert set(invalid.json()["fields"]) == {"title", "body", "region"}
    # fields a participant may not set are refused, not silently applied
    mass = await client.post(
        "/api/processes/idz/ideas", json={**NEW_IDEA, "vote_count": 1000}, headers=headers
    )
    assert mass.status_code == 400
    assert (
        await client.post("/api/processes/idz/ideas", content=b"{not json", headers=headers)
    ).status_code == 400
    assert (await client.get("/api/processes/nope")).json()["status_code"] == 404
    assert (await client.post("/api/ideas/999/vote", headers=headers)).status_code == 404
    anonymous = await client.post("/api/ideas/1/vote")
    assert anonymous.status_code in (401, 403)
    assert "detail" in anonymous.json()


async def test_budget_in_the_api(client, session_factory):
    process = await make_process(session_factory, slug="idz", budget=1)
    user = await make_user(session_factory)
    ideas = [await make_idea(session_factory, process, user) for _ in range(2)]
    headers = await bearer_headers(session_factory, user)
    first = await client.post(f"/api/ideas/{ideas[0].id}/vote", headers=headers)
    assert first.json()["votes_left"] == 0
    second = await client.post(f"/api/ideas/{ideas[1].id}/vote", headers=headers)
    assert second.status_code == 400


async def test_openapi_schema_documents_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    assert "/api/processes/{slug}/ideas" in paths
    assert "/api/ideas/{idea_id}/vote" in paths
    assert not any(p.startswith("/ideas") or p.startswith("/admin") for p in paths)
    assert "bearer" in schema["components"]["securitySchemes"]


async def test_swagger_ui_is_served_without_a_cdn(client):
    page = await client.get("/schema/swagger")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text.replace("https://swagger.io", "")
    assert "'self'" in page.headers["content-security-policy"]
    asset = await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200
