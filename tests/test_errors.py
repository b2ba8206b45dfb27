"""Bad input never produces a 500: clear pages for people, JSON for programs."""

import pytest


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/ideas/99999999999999999999", 404),
        ("/api/ideas/99999999999999999999", 404),
        ("/ideas/abc", 404),
        ("/processes/gibt-es-nicht/ideas?topic=99999999999999999999&page=99999999999", 404),
        ("/api/processes/gibt-es-nicht/ideas?page=0", 400),
        ("/nirgendwo", 404),
    ],
)
async def test_bad_urls_get_4xx(client, url, status):
    response = await client.get(url)
    assert response.status_code == status
    if url.startswith("/api/"):
        assert response.json()["status_code"] == status
        assert response.json()["error"] in ("not_found", "validation_error")
    else:
        assert "<html" in response.text


async def test_error_page_is_german_by_default_and_english_on_request(client):
    response = await client.get("/ideas/424242")
    assert 'lang="de"' in response.text
    client.cookies.set("lang", "en")
    response = await client.get("/ideas/424242")
    assert 'lang="en"' in response.text
    assert "This idea does not exist." in response.text


async def test_huge_ids_in_writes_are_4xx(client, session_factory):
    from tests.helpers import login, make_user, post_form

    user = await make_user(session_factory)
    await login(client, user.email)
    response = await post_form(client, "/ideas/99999999999999999999/vote")
    assert response.status_code == 400
    response = await post_form(
        client, "/ideas/99999999999999999999/comments", {"body": "Hallo Welt"}
    )
    assert response.status_code == 400
