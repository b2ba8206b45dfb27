"""Duplicate detection: the scorer, the suggestions while typing, the API, the moderators' queue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.similarity import service as similarity
from ideas_platform.similarity.models import DuplicatePair
from ideas_platform.similarity.scorer import current_scorer
from tests.helpers import htmx_headers, login, make_idea, make_process, make_user, post_form

GRUENDER = (
    "Technologie- und Gründerzentren in Mittelstädten ausbauen",
    "Außerhalb von Dresden, Leipzig und Chemnitz fehlen Räume und Beratung für Gründungen.",
)


SCORER = current_scorer()


def score(a: tuple[str, str], b: tuple[str, str]) -> float:
    return SCORER.score_many(SCORER.analyse(*a), [SCORER.analyse(*b)])[0]


@pytest.mark.parametrize(
    "other",
    [
        ("Ein Gründerzentrum für jede Mittelstadt", "Räume und Beratung für Gründungen."),
        ("Mehr Zentren für Gründerinnen und Gründer", "In Mittelstädten außerhalb von Dresden."),
        ("Gruenderzentren in Mittelstaedten", "Ausbau von Technologiezentren fuer Gruendungen."),
    ],
)
def test_german_compounds_and_inflections_are_similar(other):
    assert score(GRUENDER, other) >= SCORER.threshold


def test_synonyms_of_the_domain_and_english_text():
    assert (
        score(
            ("KI-Weiterbildung für Beschäftigte in KMU", "Kurse zu künstlicher Intelligenz."),
            (
                "Qualifizierung zu künstlicher Intelligenz für den Mittelstand",
                "Kurse für Beschäftigte.",
            ),
        )
        >= SCORER.threshold
    )
    assert (
        score(
            ("Hydrogen filling stations for trucks", "Along the A4 motorway near Dresden."),
            ("Refuelling stations for hydrogen trucks on the A4", "Hydrogen for heavy trucks."),
        )
        >= SCORER.threshold
    )


def test_a_paraphrase_without_shared_words_is_similar():
    """The sentence model finds what shares the meaning, not the words."""
    assert (
        score(
            (
                "Schichtpläne zu Kita-Zeiten",
                "Beschäftigte mit kleinen Kindern scheitern an Frühschichten, "
                "weil die Kita erst um sieben öffnet.",
            ),
            (
                "Flexible Schichtmodelle für Eltern",
                "Arbeitszeiten in der Produktion sollten sich nach den Öffnungszeiten "
                "der Kinderbetreuung richten.",
            ),
        )
        >= SCORER.threshold
    )


def test_ideas_that_only_share_words_are_not_similar():
    assert (
        score(
            ("Wasserstoff-Tankstellen für Lkw an der A4", "Betanken von Brennstoffzellen-Lkw."),
            ("Elektrolyseur im Chemiepark Leuna", "Grüner Wasserstoff für die Chemieindustrie."),
        )
        < SCORER.threshold
    )


@pytest.fixture
async def process_with_ideas(session_factory):
    process = await make_process(session_factory, slug="dubletten")
    author = await make_user(session_factory)
    gruender = await make_idea(
        session_factory, process, author, title=GRUENDER[0], body=GRUENDER[1]
    )
    other = await make_idea(
        session_factory,
        process,
        author,
        title="Recycling von Lithium-Ionen-Batterien in der Lausitz",
        body="Eine Pilotanlage für Batterierecycling mit der Bergakademie Freiberg.",
    )
    return process, gruender, other


async def test_api_answers_the_best_matches_first(process_with_ideas, client):
    _, gruender, _ = process_with_ideas
    response = await client.get(
        "/api/processes/dubletten/similar-ideas", params={"text": "Gründerzentrum in Mittelstädten"}
    )
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body] == [gruender.id]
    assert set(body[0]) == {"id", "title", "score"} and 0 < body[0]["score"] <= 1
    missing = await client.get("/api/processes/dubletten/similar-ideas")
    assert missing.status_code == 400 and missing.json()["status_code"] == 400
    unknown = await client.get("/api/processes/gibtsnicht/similar-ideas", params={"text": "x"})
    assert unknown.status_code == 404


async def test_the_form_shows_suggestions_while_typing(process_with_ideas, client, session_factory):
    _, gruender, other = process_with_ideas
    user = await make_user(session_factory)
    await login(client, user.email)
    form = await client.get("/processes/dubletten/ideas/new")
    assert 'hx-get="/processes/dubletten/similar-ideas"' in form.text
    fragment = await client.get(
        "/processes/dubletten/similar-ideas",
        params={"title": "Gründerzentren stärken", "body": "in Mittelstädten"},
        headers=htmx_headers(client),
    )
    assert fragment.status_code == 200
    assert gruender.title in fragment.text and other.title not in fragment.text
    assert f'action="/ideas/{gruender.id}/vote"' in fragment.text  # "support this one instead"
    assert "<html" not in fragment.text


async def test_without_javascript_the_check_is_a_step_after_submitting(
    process_with_ideas, client, session_factory, db
):
    from ideas_platform.ideas.models import Idea

    process, gruender, _ = process_with_ideas
    user = await make_user(session_factory)
    await login(client, user.email)
    new = {"title": "Gründerzentrum für Mittelstädte", "body": GRUENDER[1], "region": "dresden"}
    step = await post_form(client, "/processes/dubletten/ideas", new)
    assert step.status_code == 200
    assert "Ist Ihre Idee schon dabei?" in step.text or "one of these" in step.text
    assert gruender.title in step.text
    count = len(list(await db.scalars(select(Idea.id).where(Idea.process_id == process.id))))
    assert count == 2  # nothing published yet
    published = await post_form(client, "/processes/dubletten/ideas", {**new, "confirmed": "1"})
    assert published.status_code == 303


async def test_queue_lists_pairs_and_not_a_duplicate_hides_a_pair_for_good(
    process_with_ideas, session_factory, client, db
):
    process, gruender, _ = process_with_ideas
    author = await make_user(session_factory)
    twin = await make_idea(
        session_factory, process, author, title="Gründerzentren in Mittelstädten", body=GRUENDER[1]
    )
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    await login(client, moderator.email)
    queue = await client.get("/moderation/processes/dubletten/duplicates")
    assert queue.status_code == 200
    assert f'href="/ideas/{gruender.id}"' in queue.text and f'href="/ideas/{twin.id}"' in queue.text
    assert f"Merge #{gruender.id} into #{twin.id}" in queue.text or "zusammenführen" in queue.text

    response = await post_form(
        client,
        "/moderation/duplicates/dismiss",
        {"first_id": str(twin.id), "second_id": str(gruender.id)},
    )
    assert response.status_code == 303
    after = await client.get("/moderation/processes/dubletten/duplicates")
    assert f'href="/ideas/{twin.id}"' not in after.text
    async with session_factory() as session, session.begin():
        await similarity.rebuild(session, process.id)  # the scorer finds the pair again...
    pair = await db.scalar(select(DuplicatePair))
    assert pair is not None and pair.dismissed_at is not None  # ...and it stays dismissed
    entry = await db.scalar(select(AuditEntry).where(AuditEntry.action == "duplicates.dismiss"))
    assert entry is not None and entry.actor_id == moderator.id


async def test_overlong_words_neither_break_a_submission_nor_slow_the_lookup(
    process_with_ideas, client, session_factory
):
    user = await make_user(session_factory)
    await login(client, user.email)
    long_word = "Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft"
    idea = {
        "title": f"{long_word}A und {long_word}B",
        "body": f"{long_word}C " * 3 + "ein Vorschlag mit sehr langen Wörtern.",
        "region": "dresden",
        "confirmed": "1",
    }
    response = await post_form(client, "/processes/dubletten/ideas", idea)
    assert response.status_code == 303
    answer = await client.get(
        "/api/processes/dubletten/similar-ideas", params={"text": "x" + "ab" * 4000}
    )
    assert answer.status_code == 200
