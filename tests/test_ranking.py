"""Ranking: the breadth formula on hand-made vote sets, the page and the API."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from ideas_platform.core.requests import Principal
from ideas_platform.ideas.models import Idea
from ideas_platform.ranking import service as ranking
from ideas_platform.ranking import tally as tally_module
from ideas_platform.ranking.formula import MIN_SECTOR_PARTICIPANTS, breadth_score
from ideas_platform.ranking.tally import TallyCache
from ideas_platform.votes import service as votes
from tests.helpers import make_idea, make_process, make_user, make_users_fast

PARTICIPANTS = {"industry": 100, "science": 100, "administration": 100}


def test_even_support_across_sectors_ranks_above_the_same_votes_from_one_sector():
    even = breadth_score({"industry": 10, "science": 10, "administration": 10}, PARTICIPANTS)
    single = breadth_score({"industry": 30}, PARTICIPANTS)
    assert even > single
    # geometric mean of (10 + 1) / (100 + 1) in each sector
    assert even == pytest.approx(11 / 101)
    assert single == pytest.approx((31 / 101 * 1 / 101 * 1 / 101) ** (1 / 3))


def test_a_small_sector_counts_as_much_as_a_large_one():
    participants = {"industry": 400, "civil_society": 20}
    # 10 % of each sector beats 20 % of the large one with nobody from the small one
    balanced = breadth_score({"industry": 40, "civil_society": 2}, participants)
    lopsided = breadth_score({"industry": 80}, participants)
    assert balanced > lopsided


def test_sectors_with_too_few_participants_are_left_out():
    small = MIN_SECTOR_PARTICIPANTS - 1
    participants = {"industry": 50, "science": 50, "other": small}
    with_other = breadth_score({"industry": 5, "science": 5, "other": small}, participants)
    without = breadth_score({"industry": 5, "science": 5}, participants)
    assert with_other == without
    assert breadth_score({"industry": 3}, {"industry": small}) == 0.0


def test_more_support_in_every_sector_never_lowers_the_score():
    base = {"industry": 3, "science": 1, "administration": 0}
    for sector in PARTICIPANTS:
        more = {**base, sector: base.get(sector, 0) + 1}
        assert breadth_score(more, PARTICIPANTS) > breadth_score(base, PARTICIPANTS)


async def _vote(driver_pool, user_ids, idea_id):
    for user_id in user_ids:
        await votes.cast_vote(driver_pool, Principal(user_id, None), idea_id)


@pytest.fixture
async def voted(session_factory, driver_pool):
    """Idea 'broad': 2 votes each from industry, science, administration (6 in all).
    Idea 'narrow': 7 votes, all from industry. Each sector has 6 participants or more."""
    process = await make_process(session_factory, slug="rangliste")
    author = await make_user(session_factory, sector="other")
    broad = await make_idea(session_factory, process, author, title="Transferzentrum Leichtbau")
    narrow = await make_idea(session_factory, process, author, title="Steuerbonus für Roboter")
    filler = await make_idea(session_factory, process, author, title="Gründerzentrum im Vogtland")
    industry = await make_users_fast(session_factory, 7, sector="industry")
    science = await make_users_fast(session_factory, 6, sector="science")
    administration = await make_users_fast(session_factory, 6, sector="administration")
    await _vote(driver_pool, industry, narrow.id)
    await _vote(driver_pool, industry[:2] + science[:2] + administration[:2], broad.id)
    # everybody takes part somewhere, so each sector has 6 or 7 participants
    await _vote(driver_pool, science[2:] + administration[2:], filler.id)
    return {"process": process, "broad": broad, "narrow": narrow, "filler": filler}


async def test_ranking_by_votes_and_by_breadth_from_the_database(voted, db):
    process = voted["process"]
    by_votes = await ranking.rank(db, process, ranking.Method.VOTES)
    assert [r.idea.id for r in by_votes.ideas][:2] == [voted["filler"].id, voted["narrow"].id]
    assert by_votes.participants == {"industry": 7, "science": 6, "administration": 6}
    by_breadth = await ranking.rank(db, process, ranking.Method.BREADTH)
    order = [r.idea.id for r in by_breadth.ideas]
    assert order.index(voted["broad"].id) < order.index(voted["narrow"].id)
    broad = next(r for r in by_breadth.ideas if r.idea.id == voted["broad"].id)
    assert broad.by_sector == {"industry": 2, "science": 2, "administration": 2}
    assert [r.rank for r in by_breadth.ideas] == [1, 2, 3]


async def test_ranking_page_explains_the_formula_and_draws_sector_bars(voted, client):
    page = await client.get("/processes/rangliste/ranking?method=breadth")
    assert page.status_code == 200
    assert "geometrische Mittel" in page.text
    assert page.text.index("Transferzentrum Leichtbau") < page.text.index("Steuerbonus")
    assert 'class="sector-industry"' in page.text and "<svg" in page.text
    themes = await client.get("/processes/rangliste/ranking?method=themes")
    assert themes.status_code == 200 and "Ideen ohne Thema" in themes.text
    odd = await client.get("/processes/rangliste/ranking?method=%00&page=99999999999999999999")
    assert odd.status_code == 200


async def test_ranking_api(voted, client):
    response = await client.get("/api/processes/rangliste/ranking?method=breadth&limit=2")
    assert response.status_code == 200
    body = response.json()
    assert body["counted_sectors"] == ["administration", "industry", "science"]
    # broad: rates 3/8, 3/7, 3/7 (0.410); filler: 1/8, 5/7, 5/7 (0.400); narrow: 0.273
    assert [i["id"] for i in body["ideas"]] == [voted["broad"].id, voted["filler"].id]
    bad = await client.get("/api/processes/rangliste/ranking?method=loudest")
    assert bad.status_code == 400


async def test_the_kept_tally_follows_votes_and_hidden_ideas(voted, session_factory, driver_pool):
    """A cache that may recount at once recounts after every vote; one that must wait keeps
    its count (the ranking is at most `ranking_refresh_seconds` old); nothing changed: no
    recount at all."""
    process, narrow, broad = voted["process"], voted["narrow"], voted["broad"]
    eager, patient = TallyCache(refresh_seconds=0), TallyCache(refresh_seconds=3600)
    async with session_factory() as db:
        first = await eager.tally(db, process.id)
        kept = await patient.tally(db, process.id)
        assert await eager.tally(db, process.id) is first  # nothing changed
    assert [s.idea_id for s in first.by_votes][:2] == [voted["filler"].id, narrow.id]

    newcomers = await make_users_fast(session_factory, 3, sector="science")
    await _vote(driver_pool, newcomers, broad.id)  # broad: 6 + 3 = 9 votes, first place
    async with session_factory() as db:
        after = await eager.tally(db, process.id)
        assert after.by_votes[0].idea_id == broad.id
        assert after.by_idea[broad.id]["science"] == 5
        assert await patient.tally(db, process.id) is kept

    async with session_factory() as db:
        await db.execute(update(Idea).where(Idea.id == broad.id).values(status="hidden"))
        await db.commit()
    async with session_factory() as db:
        assert broad.id not in {s.idea_id for s in (await eager.tally(db, process.id)).by_votes}
        shown = await ranking.rank(db, process, ranking.Method.VOTES, tally=kept)
        assert broad.id not in {r.idea.id for r in shown.ideas}  # hidden since counted


async def test_concurrent_requests_on_a_cold_cache_count_the_votes_once(voted, session_factory):
    cache = TallyCache(refresh_seconds=0)
    counts = 0
    original = tally_module.count_tally

    async def counting(session, process_id):
        nonlocal counts
        counts += 1
        return await original(session, process_id)

    tally_module.count_tally = counting
    try:

        async def one() -> object:
            async with session_factory() as db:
                return await cache.tally(db, voted["process"].id)

        results = await asyncio.gather(*(one() for _ in range(8)))
    finally:
        tally_module.count_tally = original
    assert counts == 1
    assert all(r is results[0] for r in results)
