"""Seed the demo process "Industrie der Zukunft" into an empty database.

Deterministic for a given `rng_seed` (apart from the dates, which are relative to now).
Everything is written in one transaction with bulk inserts; then the moderation nominates
the most supported ideas for the shortlist through the shortlist service.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ideas_platform.accounts.models import User
from ideas_platform.comments.models import Comment
from ideas_platform.core.choices import Region, Role, Sector
from ideas_platform.core.config import get_settings
from ideas_platform.core.database import transaction
from ideas_platform.core.markdown import render_markdown
from ideas_platform.core.passwords import hash_password
from ideas_platform.demo import data
from ideas_platform.events.models import Event
from ideas_platform.events.service import CODE_ALPHABET, CODE_LENGTH
from ideas_platform.ideas.models import Idea
from ideas_platform.measures import service as measures
from ideas_platform.measures.models import CarriedMeasure, MeasureStatus, MeasureUpdate
from ideas_platform.moderation.models import Report, ReportReason
from ideas_platform.processes.models import PhaseKind, Process, ProcessPhase, Topic
from ideas_platform.shortlists import service as shortlists
from ideas_platform.similarity.service import rebuild as rebuild_similarity
from ideas_platform.votes.models import Vote

DEMO_PASSWORD = "demo-passwort-2026"  # noqa: S105 - published demo password, example.org only
DEMO_EMAIL_DOMAIN = "example.org"
COMMENT_TOTAL = 120
MIN_VOTES_PER_PARTICIPANT = 3
MAX_VOTES_PER_PARTICIPANT = 15

# Serialises concurrent seeders (several app processes starting at once).
_ADVISORY_LOCK_KEY = 7_202_611_026

STAFF_ACCOUNTS: list[tuple[str, str, Role, Sector, str]] = [
    ("moderator@example.org", "Moderation (Demo)", Role.MODERATOR, Sector.OTHER, "Moderationsteam"),
    (
        "ministry@example.org",
        "Ministerium (Demo)",
        Role.MINISTRY,
        Sector.ADMINISTRATION,
        "Sächsisches Staatsministerium für Wirtschaft und Industrie (fiktiv)",
    ),
    ("admin@example.org", "Administration (Demo)", Role.ADMIN, Sector.OTHER, "Plattformbetrieb"),
]

_SECTOR_WEIGHTS: dict[Sector, int] = {
    Sector.INDUSTRY: 34,
    Sector.SCIENCE: 20,
    Sector.ADMINISTRATION: 14,
    Sector.SOCIAL_PARTNERS: 14,
    Sector.CIVIL_SOCIETY: 12,
    Sector.OTHER: 6,
}
_REGION_WEIGHTS: dict[Region, int] = {
    Region.DRESDEN: 16,
    Region.LEIPZIG: 16,
    Region.CHEMNITZ: 14,
    Region.ZWICKAU: 7,
    Region.MITTELSACHSEN: 6,
    Region.ERZGEBIRGSKREIS: 6,
    Region.BAUTZEN: 5,
    Region.GOERLITZ: 5,
    Region.VOGTLANDKREIS: 4,
    Region.MEISSEN: 4,
    Region.LANDKREIS_LEIPZIG: 4,
    Region.NORDSACHSEN: 3,
    Region.SAECHSISCHE_SCHWEIZ: 4,
    Region.BERLIN: 3,
    Region.BRUSSELS: 1,
    Region.ELSEWHERE: 2,
}

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _email_part(name: str) -> str:
    return name.lower().translate(_UMLAUTS)


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random moment in [start, end] (end if the interval is empty)."""
    span = (end - start).total_seconds()
    if span <= 0:
        return end
    return start + timedelta(seconds=rng.uniform(0, span))


def _weighted_sample(
    rng: random.Random, items: list[int], weights: list[float], k: int
) -> list[int]:
    """k distinct items, each drawn with probability proportional to its weight."""
    keyed = sorted(items, key=lambda i: rng.random() ** (1.0 / weights[i]), reverse=True)
    return keyed[:k]


# Two less supported ideas of the demo were first submitted in the earlier cycle.
CARRIED_IDEA_RANKS = (12, 25)
CARRIED_IDEA_VOTES = (17, 9)


async def _seed_earlier_cycle(
    session_factory: async_sessionmaker[AsyncSession],
    process: Process,
    users: list[User],
    moderator: User,
    ministry: User,
    carried: list[Idea],
    *,
    rng: random.Random,
    now: datetime,
) -> None:
    """The earlier cycle: its recommendations decided and frozen, measures with dated updates
    (through the services, audited); its open measures and two ideas carried into `process`."""
    day = timedelta(days=1)
    recommendations = data.EARLIER_RECOMMENDATIONS
    async with session_factory() as session, session.begin():
        earlier = Process(**data.EARLIER_PROCESS, created_at=now - 430 * day)
        session.add(earlier)
        await session.flush()
        session.add_all(
            ProcessPhase(
                process_id=earlier.id, kind=kind, starts_at=now + a * day, ends_at=now + b * day
            )
            for kind, a, b in (
                (PhaseKind.COLLECT, -420, -340),
                (PhaseKind.VOTE, -380, -320),
                (PhaseKind.SHORTLIST, -320, -300),
            )
        )
        specs = [
            (r["title"], r["body"], Sector(r["sector"]), Region(r["region"]), r["votes"])
            for r in recommendations
        ] + [
            (idea.title, idea.body, idea.author_sector or Sector.OTHER, idea.region, votes)
            for idea, votes in zip(carried, CARRIED_IDEA_VOTES, strict=True)
        ]
        originals: list[Idea] = []
        vote_rows: list[dict[str, Any]] = []
        for title, body, sector, region, votes in specs:
            author = rng.choice([u for u in users if u.sector == sector] or users)
            created_at = now - rng.uniform(345, 415) * day
            idea = Idea(
                process_id=earlier.id,
                author_id=author.id,
                author_sector=sector,
                title=title,
                body=body,
                body_html=render_markdown(body),
                region=region,
                vote_count=votes,
                comment_count=0,
                created_at=created_at,
            )
            session.add(idea)
            await session.flush()
            originals.append(idea)
            voters = rng.sample([u for u in users if u is not author], votes)
            vote_rows += [
                {
                    "idea_id": idea.id,
                    "user_id": voter.id,
                    "process_id": earlier.id,
                    "created_at": now - rng.uniform(321, 379) * day,
                }
                for voter in voters
            ]
        await session.execute(insert(Vote), vote_rows)
        await session.execute(
            text(
                "INSERT INTO follows (user_id, idea_id) SELECT author_id, id FROM ideas "
                "WHERE process_id = :process ON CONFLICT DO NOTHING"
            ),
            {"process": earlier.id},
        )
        await session.execute(
            update(Process).where(Process.id == process.id).values(carried_over_from_id=earlier.id)
        )
        for copy, original in zip(carried, originals[len(recommendations) :], strict=True):
            await session.execute(
                update(Idea).where(Idea.id == copy.id).values(carried_over_from_id=original.id)
            )

    async with session_factory() as session:
        for index, (spec, idea) in enumerate(zip(recommendations, originals, strict=False)):
            entry = await shortlists.nominate(
                session,
                process=earlier,
                moderator=moderator,
                rationale=data.DEMO_NOMINATION_RATIONALES[index],
                idea_id=idea.id,
            )
            await shortlists.decide(
                session,
                entry_id=entry.id,
                official=ministry,
                accept=spec["accept"],
                comment=spec["comment"],
            )
            if "measure" not in spec:
                continue
            plan = spec["measure"]
            form = measures.MeasureForm(
                title=plan["title"],
                unit=plan["unit"],
                description=plan["description"],
                starts_on=(now + plan["starts_on"] * day).date().isoformat(),
                target_on=(now + plan["target_on"] * day).date().isoformat(),
            )
            measure = await measures.create_measure(
                session, official=ministry, entry_id=entry.id, form=form
            )
            for days, progress, body in plan["updates"]:
                report = await measures.post_update(
                    session, official=ministry, measure_id=measure.id, body=body, progress=progress
                )
                async with transaction(session):
                    await session.execute(
                        update(MeasureUpdate)
                        .where(MeasureUpdate.id == report.id)
                        .values(created_at=now + days * day)
                    )
            if plan.get("done"):
                await measures.change_measure(
                    session,
                    official=ministry,
                    measure_id=measure.id,
                    form=form,
                    status=MeasureStatus.DONE.value,
                    progress="100",
                )
            else:
                async with transaction(session):
                    session.add(CarriedMeasure(process_id=process.id, measure_id=measure.id))
        await shortlists.freeze(session, process=earlier, official=ministry)


async def seed_demo(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    participants: int = 220,
    rng_seed: int = 2026,
) -> bool:
    """Create the demo process with its users, ideas, votes, comments; False if one exists."""
    rng = random.Random(rng_seed)
    now = datetime.now(UTC).replace(microsecond=0)
    day = timedelta(days=1)

    async with session_factory() as session, session.begin():
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
        )
        if await session.scalar(select(func.count()).select_from(Process)):
            return False

        # Hash once, outside the hot path of the inserts (argon2 is deliberately slow).
        password_hash = hash_password(DEMO_PASSWORD)
        consent_version = get_settings().consent_version

        # --- process, phases, topics ------------------------------------------------------------
        process = Process(
            slug=data.PROCESS["slug"],
            title=data.PROCESS["title"],
            description=data.PROCESS["description"],
            vote_budget=None,
            created_at=now - 45 * day,
        )
        session.add(process)
        await session.flush()
        phase_dates = [
            (PhaseKind.COLLECT, now - 30 * day, now + 60 * day),
            (PhaseKind.VOTE, now - 10 * day, now + 60 * day),
            # Open now too, so that the demo shows the theme board in use.
            (PhaseKind.CLUSTER, now - 3 * day, now + 90 * day),
            (PhaseKind.SHORTLIST, now + 90 * day, now + 120 * day),
        ]
        session.add_all(
            ProcessPhase(process_id=process.id, kind=kind, starts_at=starts, ends_at=ends)
            for kind, starts, ends in phase_dates
        )
        topics = [Topic(process_id=process.id, name=name) for name in data.TOPICS]
        session.add_all(topics)

        # --- events -----------------------------------------------------------------------------
        join_codes: set[str] = set()
        events: list[Event] = []
        for spec in data.EVENTS:
            code = "".join(rng.choices(CODE_ALPHABET, k=CODE_LENGTH))
            while code in join_codes:
                code = "".join(rng.choices(CODE_ALPHABET, k=CODE_LENGTH))
            join_codes.add(code)
            starts_at = (now + spec["days"] * day).replace(hour=8, minute=30, second=0)
            upcoming = starts_at > now
            events.append(
                Event(
                    process_id=process.id,
                    title=spec["title"],
                    place=spec["place"],
                    starts_at=starts_at,
                    description=spec["description"],
                    join_code=code,
                    created_at=min(now, starts_at) - 14 * day,
                    join_until=starts_at + day,
                    # the next workshop votes with dots: 5 per person for its ideas
                    capacity=120 if upcoming else None,
                    dot_budget=5 if upcoming else None,
                )
            )
        session.add_all(events)

        # --- users ------------------------------------------------------------------------------
        sectors = list(_SECTOR_WEIGHTS)
        regions = list(_REGION_WEIGHTS)
        name_pairs = [(first, last) for first in data.FIRST_NAMES for last in data.LAST_NAMES]
        rng.shuffle(name_pairs)
        users: list[User] = []
        for n in range(participants):
            first, last = name_pairs[n % len(name_pairs)]
            # The first ones cover every sector and every region; the rest follow the weights.
            sector = (
                sectors[n]
                if n < len(sectors)
                else rng.choices(sectors, weights=list(_SECTOR_WEIGHTS.values()))[0]
            )
            region = (
                regions[n]
                if n < len(regions)
                else rng.choices(regions, weights=list(_REGION_WEIGHTS.values()))[0]
            )
            users.append(
                User(
                    email=f"{_email_part(first)}.{_email_part(last)}.{n + 1}@{DEMO_EMAIL_DOMAIN}",
                    display_name=f"{first} {last}",
                    password_hash=password_hash,
                    sector=sector,
                    organisation=rng.choice(data.ORGANISATIONS[sector]),
                    region=region,
                    role=Role.PARTICIPANT,
                    locale="de",
                    created_at=now - timedelta(seconds=rng.uniform(30 * 86400, 45 * 86400)),
                    # About two in three agree to appear by name in the ministry's exports.
                    name_in_exports=rng.random() < 0.65,
                    email_confirmed_at=now - 30 * day,
                    consent_version=consent_version,
                    consent_at=now - 30 * day,
                )
            )
        staff = [
            User(
                email=email,
                display_name=name,
                password_hash=password_hash,
                sector=sector,
                organisation=organisation,
                region=Region.DRESDEN,
                role=role,
                locale="de",
                created_at=now - 60 * day,
                email_confirmed_at=now - 60 * day,
                consent_version=consent_version,
                consent_at=now - 60 * day,
            )
            for email, name, role, sector, organisation in STAFF_ACCOUNTS
        ]
        session.add_all(users + staff)
        await session.flush()  # ids for users, topics, events

        by_sector: dict[Sector, list[User]] = {}
        for user in users:
            by_sector.setdefault(user.sector, []).append(user)
        topic_ids = {topic.name: topic.id for topic in topics}

        # --- plan ideas (authors, dates, popularity) --------------------------------------------
        idea_specs = data.IDEAS
        authors: list[User | None] = []
        created: list[datetime] = []
        for spec in idea_specs:
            pool = by_sector.get(spec["author_sector"]) or users
            authors.append(rng.choice(pool) if pool else None)
            event_index = spec["event"]
            event_start = events[event_index].starts_at if event_index is not None else None
            if event_start is not None and event_start < now:
                created.append(event_start + timedelta(minutes=rng.uniform(30, 7 * 60)))
            else:
                created.append(now - timedelta(seconds=rng.uniform(600, 30 * 86400 - 600)))
        # A few ideas are much more popular than most (heavy-tailed weights).
        popularity = [rng.paretovariate(1.6) for _ in idea_specs]

        # --- plan votes -------------------------------------------------------------------------
        vote_start = now - 10 * day
        idea_indices = list(range(len(idea_specs)))
        vote_plan: list[tuple[int, int, datetime]] = []  # (idea index, user index, created_at)
        for user_index, user in enumerate(users):
            own = {i for i, author in enumerate(authors) if author is user}
            candidates = [i for i in idea_indices if i not in own]
            k = min(
                len(candidates),
                rng.randint(MIN_VOTES_PER_PARTICIPANT, MAX_VOTES_PER_PARTICIPANT),
            )
            for i in _weighted_sample(rng, candidates, popularity, k):
                voted_at = _between(rng, max(created[i], vote_start, user.created_at), now)
                vote_plan.append((i, user_index, voted_at))

        # --- plan comments ----------------------------------------------------------------------
        comment_plan: list[tuple[int, int, str, datetime]] = []
        if users:
            for _ in range(COMMENT_TOTAL):
                i = rng.choices(idea_indices, weights=popularity)[0]
                user_index = rng.randrange(len(users))
                body = rng.choice(data.COMMENTS)
                commented_at = _between(rng, max(created[i], users[user_index].created_at), now)
                comment_plan.append((i, user_index, body, commented_at))

        vote_counts = [0] * len(idea_specs)
        for i, _, _ in vote_plan:
            vote_counts[i] += 1
        comment_counts = [0] * len(idea_specs)
        for i, _, _, _ in comment_plan:
            comment_counts[i] += 1

        # --- ideas ------------------------------------------------------------------------------
        ideas = [
            Idea(
                process_id=process.id,
                author_id=author.id if author is not None else None,
                author_sector=author.sector if author is not None else spec["author_sector"],
                event_id=events[spec["event"]].id if spec["event"] is not None else None,
                topic_id=topic_ids[spec["topic"]],
                title=spec["title"],
                body=spec["body"],
                body_html=render_markdown(spec["body"]),
                region=spec["region"],
                vote_count=vote_counts[i],
                comment_count=comment_counts[i],
                created_at=created[i],
            )
            for i, (spec, author) in enumerate(zip(idea_specs, authors, strict=True))
        ]
        session.add_all(ideas)
        await session.flush()

        # --- votes and comments (bulk) ----------------------------------------------------------
        vote_rows: list[dict[str, Any]] = [
            {
                "idea_id": ideas[i].id,
                "user_id": users[u].id,
                "process_id": process.id,
                "created_at": voted_at,
            }
            for i, u, voted_at in vote_plan
        ]
        if vote_rows:
            await session.execute(insert(Vote), vote_rows)
        rendered: dict[str, str] = {}
        comment_rows: list[dict[str, Any]] = []
        for i, u, body, commented_at in sorted(comment_plan, key=lambda c: c[3]):
            if body not in rendered:
                rendered[body] = render_markdown(body)
            comment_rows.append(
                {
                    "idea_id": ideas[i].id,
                    "author_id": users[u].id,
                    "body": body,
                    "body_html": rendered[body],
                    "created_at": commented_at,
                }
            )
        if comment_rows:
            await session.execute(insert(Comment), comment_rows)
        await rebuild_similarity(session, process.id)
        # Authors follow their ideas (the service does this at submission).
        await session.execute(
            text(
                "INSERT INTO follows (user_id, idea_id) SELECT author_id, id FROM ideas "
                "WHERE author_id IS NOT NULL ON CONFLICT DO NOTHING"
            )
        )

        # --- two open reports, so that the moderators' queue has something to decide ---------
        commented = await session.scalar(
            select(Comment).where(Comment.idea_id == ideas[0].id).order_by(Comment.id).limit(1)
        )
        reports = [
            Report(
                idea_id=ideas[-1].id,
                reporter_id=users[0].id,
                reason=ReportReason.DUPLICATE,
                details=data.DEMO_REPORTS[0],
            )
        ]
        if commented is not None:
            reports.append(
                Report(
                    idea_id=ideas[0].id,
                    comment_id=commented.id,
                    reporter_id=users[1].id,
                    reason=ReportReason.OTHER,
                    details=data.DEMO_REPORTS[1],
                )
            )
        session.add_all(reports)

        moderator = next(u for u in staff if u.role == Role.MODERATOR)
        ministry = next(u for u in staff if u.role == Role.MINISTRY)
        most_supported = sorted(range(len(ideas)), key=lambda i: (-vote_counts[i], i))
        nominations = [
            (ideas[i].id, rationale)
            for i, rationale in zip(most_supported, data.DEMO_NOMINATION_RATIONALES, strict=False)
        ]

    # Nominations for the shortlist, for the ministry to decide (through the service, audited).
    async with session_factory() as session:
        for idea_id, rationale in nominations:
            await shortlists.nominate(
                session, process=process, moderator=moderator, rationale=rationale, idea_id=idea_id
            )
    # The cycle before this one: handed over, with measures under way that this one carries on.
    carried = [ideas[most_supported[i]] for i in CARRIED_IDEA_RANKS]
    await _seed_earlier_cycle(
        session_factory, process, users, moderator, ministry, carried, rng=rng, now=now
    )
    async with session_factory() as session:
        # The demo's people hear of the nominations under the bell; nobody is mailed (their
        # addresses are invented, and an operator may try the demo with a real SMTP server).
        await session.execute(
            text("UPDATE notifications SET mail_state = 'none' WHERE mail_state = 'pending'")
        )
        await session.commit()
    return True
