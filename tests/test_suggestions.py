"""Machine suggestions for themes: the grouping itself, and the background job as used."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from ideas_platform.audit.models import AuditEntry
from ideas_platform.core.choices import Role
from ideas_platform.ideas.models import Idea
from ideas_platform.similarity import embedder as embedding
from ideas_platform.similarity.embedder import get_embedder, idea_text
from ideas_platform.themes.models import Theme, ThemeSuggestion
from ideas_platform.themes.suggest import IdeaText, suggest
from tests.helpers import login, make_idea, make_process, make_user, post_form

TOPICS = {
    "wasserstoff": [
        ("Wasserstoffleitung zum Chemiepark Leuna", "Eine Pipeline für grünen Wasserstoff."),
        ("Elektrolyseur am Kraftwerksstandort Boxberg", "Wasserstoff aus Windstrom erzeugen."),
        ("Wasserstoff-Tankstellen für Lkw an der A4", "Betankung von Brennstoffzellen-Lkw."),
        ("H2-Speicher in Salzkavernen prüfen", "Große Wasserstoffspeicher für die Industrie."),
        ("Wasserstoffnetz für Gewerbegebiete der Lausitz", "Anschluss an das Kernnetz."),
        ("Brennstoffzellen-Busse im Vogtland", "Wasserstoff statt Diesel im Nahverkehr."),
    ],
    "ausbildung": [
        ("Mehr Azubis für das Handwerk im Erzgebirge", "Ausbildungsmessen an allen Schulen."),
        ("Berufsschule mit moderner Werkstatt ausstatten", "Auszubildende an neuen Maschinen."),
        ("Ausbildungsverbund kleiner Metallbetriebe", "Gemeinsam Lehrlinge ausbilden."),
        ("Wohnheim für Auszubildende in Zwickau", "Günstiges Wohnen während der Ausbildung."),
        ("Praktika für Schülerinnen in der Industrie", "Früh Berufe kennenlernen, Ausbildung."),
        ("Prüfungsvorbereitung für Azubis mit Sprachhürden", "Deutschkurse in der Ausbildung."),
    ],
    "druck": [
        ("3D-Druck-Labor an der Hochschule Mittweida", "Additive Fertigung für Studierende."),
        ("Metall-3D-Drucker für Zulieferer teilen", "Gemeinsame additive Fertigung im Verbund."),
        ("Ersatzteile im 3D-Druck herstellen", "Drucken statt lagern, additiv gefertigt."),
        (
            "Pulverrecycling in der additiven Fertigung",
            "Metallpulver aus dem 3D-Druck aufbereiten.",
        ),
        ("Normen für 3D-gedruckte Bauteile", "Zertifizierung additiv gefertigter Teile."),
        ("3D-Druck von Prothesen in Leipzig", "Medizintechnik mit additiver Fertigung."),
    ],
}


def _ideas() -> tuple[list[IdeaText], dict[int, str]]:
    ideas, labels = [], {}
    for topic, texts in TOPICS.items():
        for title, body in texts:
            ideas.append(IdeaText(len(ideas) + 1, title, body))
            labels[len(ideas)] = topic
    return ideas, labels


def _meaning(ideas: list[IdeaText]):
    model = get_embedder()
    assert model is not None
    return model.embed([idea_text(idea.title, idea.body) for idea in ideas])


@pytest.mark.parametrize("k", [3, None])
def test_clearly_separate_topics_are_kept_apart(k):
    ideas, labels = _ideas()
    proposals, choice = suggest(ideas, _meaning(ideas), k=k)
    assert sorted(i for p in proposals for i in p.idea_ids) == [i.id for i in ideas]
    for proposal in proposals:  # no proposed theme mixes two topics
        assert len({labels[i] for i in proposal.idea_ids}) == 1, proposal
    assert choice.automatic == (k is None)
    if k == 3:
        assert len(proposals) == 3 and choice.k == 3
    else:
        assert choice.k == len(proposals) and choice.k in choice.silhouettes
        assert max(choice.silhouettes, key=lambda k: choice.silhouettes[k]) == choice.k


def test_a_proposed_theme_is_named_with_a_phrase_a_person_wrote():
    ideas, _ = _ideas()
    titles = {idea.id: idea.title for idea in ideas}
    proposals, _ = suggest(ideas, _meaning(ideas), k=3)
    for proposal in proposals:
        assert proposal.title in {titles[i] for i in proposal.idea_ids}
        assert " · " not in proposal.title and len(proposal.title) <= 120


def test_odd_texts_are_grouped_without_error():
    ideas = [
        IdeaText(1, "🙂🚀", ""),
        IdeaText(2, "Wasserstoff", "x" * 10_000),
        IdeaText(3, "Водородные заправки", "氢燃料卡车加气站"),
        IdeaText(4, "Hydrogen für Lkw", "Mixed German and English text."),
        IdeaText(5, "A" * 200, ""),
    ]
    proposals, _ = suggest(ideas, _meaning(ideas))
    assert sorted(i for p in proposals for i in p.idea_ids) == [1, 2, 3, 4, 5]
    assert all(len(p.title) <= 120 for p in proposals)


async def test_without_a_language_model_the_moderator_is_told(session_factory, client):
    await make_process(session_factory, slug="kein-modell", cluster="open")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    await login(client, moderator.email)
    model = get_embedder()
    embedding.use_embedder(None)
    try:
        response = await post_form(client, "/processes/kein-modell/suggestions", {})
    finally:
        embedding.use_embedder(model)
    assert response.status_code in (303, 400, 409)
    page = (
        await client.get("/processes/kein-modell/board")
        if response.status_code == 303
        else response
    )
    assert "Sprachmodell" in page.text


async def test_a_moderator_gets_suggestions_in_the_background_and_accepts_one(
    session_factory, client, db
):
    process = await make_process(session_factory, slug="vorschlag", cluster="open")
    author = await make_user(session_factory)
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    participant = await make_user(session_factory)
    for texts in TOPICS.values():
        for title, body in texts:
            await make_idea(
                session_factory, process, author, title=title, body=body + " Bitte umsetzen."
            )

    await login(client, participant.email)
    assert (await post_form(client, "/processes/vorschlag/suggestions", {})).status_code == 403
    client.cookies.clear()
    await login(client, moderator.email)
    response = await post_form(client, "/processes/vorschlag/suggestions", {"k": "3"})
    assert response.status_code == 303
    job_url = response.headers["location"]

    for _ in range(120):  # the job runs in another process; the page polls
        job = await db.scalar(select(ThemeSuggestion).execution_options(populate_existing=True))
        if job is not None and job.status in ("done", "failed"):
            break
        await asyncio.sleep(0.5)
    assert job is not None and job.status == "done", job and job.error
    assert len(job.proposals) == 3 and job.ideas == 18
    assert job.k_choice == {"k": 3, "automatic": False, "silhouettes": {}}

    page = await client.get(job_url)
    assert page.status_code == 200 and "/proposals/0/accept" in page.text
    accepted = await post_form(client, f"{job_url}/proposals/0/accept", {"title": "Mein Thema"})
    assert accepted.status_code == 303
    theme = await db.scalar(select(Theme))
    assert theme is not None and theme.title == "Mein Thema"
    members = set(await db.scalars(select(Idea.id).where(Idea.theme_id == theme.id)))
    assert members == set(job.proposals[0]["idea_ids"])
    dropped = await post_form(client, f"{job_url}/proposals/1/drop", {})
    assert dropped.status_code == 303
    twice = await post_form(client, f"{job_url}/proposals/0/accept", {"title": "Nochmal"})
    assert twice.status_code == 303 and len(list(await db.scalars(select(Theme)))) == 1
    actions = set(await db.scalars(select(AuditEntry.action)))
    assert {"themes.suggest", "theme.accept_suggestion", "theme.drop_suggestion"} <= actions


async def test_a_job_whose_process_died_is_reported_as_failed(session_factory, client, engine):
    from sqlalchemy import text

    process = await make_process(session_factory, slug="verwaist")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    async with engine.begin() as conn:
        job_id = await conn.scalar(
            text(
                "INSERT INTO theme_suggestions (process_id, status, progress, ideas, proposals, "
                "created_at) VALUES (:p, 'running', 0.4, 10, '[]', now() - interval '1 hour') "
                "RETURNING id"
            ),
            {"p": process.id},
        )
    await login(client, moderator.email)
    page = await client.get(f"/suggestions/{job_id}")
    assert page.status_code == 200
    assert "every 1s" not in page.text  # no endless polling
    assert "nicht berechnet" in page.text
