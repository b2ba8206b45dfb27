"""Every API error is `{"error": <stable code>, "detail": <translated>, ...}` with its 4xx."""

from __future__ import annotations

from tests.helpers import bearer_headers, login, make_idea, make_process, make_user


async def test_voting_twice_is_409_already_voted_in_both_languages(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    author = await make_user(session_factory)
    idea = await make_idea(session_factory, process, author)
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    assert (await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)).status_code == 201

    german = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert german.status_code == 409
    assert german.json() == {
        "error": "already_voted",
        "detail": "Sie unterstützen diese Idee bereits.",
        "status_code": 409,
    }
    client.cookies.set("lang", "en")
    english = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert english.status_code == 409
    assert english.json()["error"] == "already_voted"
    assert english.json()["detail"] == "You already support this idea."


async def test_withdrawing_a_vote_never_cast_is_not_voted(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    response = await client.delete(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert response.status_code == 409 and response.json()["error"] == "not_voted"


async def test_missing_things_are_404_with_their_code(client, session_factory):
    await make_process(session_factory, slug="idz")
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    vote = await client.post("/api/ideas/424242/vote", headers=headers)
    assert vote.status_code == 404
    assert vote.json()["error"] == "idea_not_found"
    assert vote.json()["detail"] == "Diese Idee existiert nicht."
    process = await client.get("/api/processes/gibt-es-nicht")
    assert process.status_code == 404 and process.json()["error"] == "process_not_found"
    route = await client.get("/api/nirgendwo")
    assert route.status_code == 404 and route.json()["error"] == "not_found"


async def test_invalid_json_is_400_validation_error(client, session_factory):
    await make_process(session_factory, slug="idz")
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    broken = await client.post("/api/processes/idz/ideas", content=b"{not json", headers=headers)
    assert broken.status_code == 400
    assert broken.json()["error"] == "validation_error"
    assert broken.json()["detail"].startswith("Die Anfrage konnte nicht verarbeitet werden")
    wrong_type = await client.post(
        "/api/processes/idz/ideas",
        json={"title": 1, "body": "Text", "region": "dresden"},
        headers=headers,
    )
    assert wrong_type.status_code == 400
    assert wrong_type.json()["error"] == "validation_error"
    # the field is named; msgspec's English explanation is not passed on
    assert set(wrong_type.json()["fields"]) == {"title"}
    assert "Expected" not in wrong_type.json()["fields"]["title"]
    page = await client.get("/api/processes/idz/ideas", params={"page": 0})
    assert page.status_code == 400 and set(page.json()["fields"]) == {"page"}


async def test_invalid_input_is_422_with_translated_fields(client, session_factory):
    await make_process(session_factory, slug="idz")
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    response = await client.post(
        "/api/processes/idz/ideas",
        json={"title": "x", "body": "", "region": "mars"},
        headers=headers,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_input"
    assert set(body["fields"]) == {"title", "body", "region"}
    assert body["detail"] in body["fields"].values()
    client.cookies.set("lang", "en")
    english = await client.post(
        "/api/processes/idz/ideas",
        json={"title": "x", "body": "", "region": "mars"},
        headers=headers,
    )
    assert english.json()["error"] == "invalid_input"
    assert english.json()["fields"] != body["fields"]  # the same problems, in English


async def test_writes_without_a_token_are_401_not_authenticated(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    response = await client.post(f"/api/ideas/{idea.id}/vote")
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response.json()["detail"] == "Bitte melden Sie sich zuerst an."
    bad_token = await client.post(
        f"/api/ideas/{idea.id}/vote", headers={"Authorization": "Bearer ip_falsch"}
    )
    assert bad_token.status_code == 401 and bad_token.json()["error"] == "not_authenticated"


async def test_a_session_write_without_the_csrf_header_is_csrf_failed(client, session_factory):
    process = await make_process(session_factory, slug="idz")
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    await login(client, (await make_user(session_factory)).email)
    response = await client.post(f"/api/ideas/{idea.id}/vote")
    assert response.status_code == 403
    assert response.json()["error"] == "csrf_failed"


async def test_wrong_method_is_405_method_not_allowed(client, session_factory):
    response = await client.put("/api/processes")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


async def test_vote_outside_the_vote_phase_names_the_rule(client, session_factory):
    process = await make_process(session_factory, slug="idz", vote="closed")
    idea = await make_idea(session_factory, process, await make_user(session_factory))
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    response = await client.post(f"/api/ideas/{idea.id}/vote", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "not_vote_phase"


async def test_an_exhausted_budget_is_vote_budget_exhausted(client, session_factory):
    process = await make_process(session_factory, slug="idz", budget=1)
    author = await make_user(session_factory)
    first = await make_idea(session_factory, process, author)
    second = await make_idea(session_factory, process, author)
    headers = await bearer_headers(session_factory, await make_user(session_factory))
    assert (await client.post(f"/api/ideas/{first.id}/vote", headers=headers)).status_code == 201
    response = await client.post(f"/api/ideas/{second.id}/vote", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"] == "vote_budget_exhausted"


async def test_openapi_documents_the_error_shape(client):
    document = (await client.get("/schema/openapi.json")).json()
    schema = document["components"]["schemas"]["ErrorResponse"]
    assert {"error", "detail", "status_code"} <= set(schema["required"])
    assert "fields" in schema["properties"]
    vote = document["paths"]["/api/ideas/{idea_id}/vote"]["post"]["responses"]
    for status in ("400", "401", "404", "409"):
        ref = vote[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/ErrorResponse"
    assert "already_voted" in vote["409"]["description"]


async def test_too_large_bodies_and_rate_limits_keep_the_shape():
    """Litestar's own refusals (413 body too large, 429 rate limit) on a tiny app."""
    from litestar import Litestar, post
    from litestar.middleware.rate_limit import RateLimitConfig
    from litestar.testing import AsyncTestClient

    from ideas_platform.core.exception_handlers import exception_handlers

    @post("/api/echo", request_max_body_size=10, sync_to_thread=False)
    def echo(data: dict[str, str]) -> dict[str, str]:
        return data

    limit = RateLimitConfig(rate_limit=("minute", 1), exclude=["/api/echo"])
    app = Litestar([echo], exception_handlers=exception_handlers, middleware=[limit.middleware])
    async with AsyncTestClient(app=app) as client:
        too_large = await client.post("/api/echo", json={"text": "x" * 100})
        assert too_large.status_code == 413
        assert too_large.json()["error"] == "payload_too_large"

    @post("/api/limited", sync_to_thread=False)
    def limited() -> None:
        return None

    app = Litestar([limited], exception_handlers=exception_handlers, middleware=[limit.middleware])
    async with AsyncTestClient(app=app) as client:
        assert (await client.post("/api/limited")).status_code == 201
        refused = await client.post("/api/limited")
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert refused.json()["detail"].startswith("Zu viele")
