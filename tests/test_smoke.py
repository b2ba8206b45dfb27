from tests.helpers import login, make_idea, make_process, make_user


async def test_home_and_process_pages(client, session_factory):
    process = await make_process(session_factory, slug="industrie")
    author = await make_user(session_factory)
    await make_idea(session_factory, process, author, title="Wasserstoff für den Mittelstand")
    home = await client.get("/")
    assert home.status_code == 200
    assert "Industrie der Zukunft" in home.text
    page = await client.get("/processes/industrie")
    assert page.status_code == 200
    listing = await client.get("/processes/industrie/ideas")
    assert "Wasserstoff für den Mittelstand" in listing.text
    await login(client, author.email)
    assert (await client.get("/profile")).status_code == 200


async def test_every_page_is_served_as_html(client, own_idea):
    _, _, idea = await own_idea(slug="industrie")
    for url in (
        "/",
        "/processes/industrie",
        "/processes/industrie/ideas",
        f"/ideas/{idea.id}",
        f"/ideas/{idea.id}/edit",
        "/processes/industrie/ideas/new",
        "/profile",
        "/ideas/0",
    ):
        response = await client.get(url)
        assert response.headers["content-type"].startswith("text/html"), url
