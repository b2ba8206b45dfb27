"""The demo process that `make run` seeds on an empty database."""

from sqlalchemy import func, select

from ideas_platform.accounts.models import User
from ideas_platform.core.choices import Sector
from ideas_platform.core.invariants import find_violations
from ideas_platform.demo.seed import DEMO_PASSWORD, seed_demo
from ideas_platform.ideas.models import Idea
from ideas_platform.measures.models import MeasureUpdate
from ideas_platform.votes.models import Vote
from tests.helpers import login


async def test_demo_is_realistic_consistent_and_seeded_once(session_factory, db, client):
    assert await seed_demo(session_factory) is True
    assert await seed_demo(session_factory) is False  # only into an empty database
    assert await db.scalar(select(func.count()).select_from(Idea)) >= 60
    participants = await db.scalar(
        select(func.count()).select_from(User).where(User.role == "participant")
    )
    assert participants >= 200
    sectors = set(await db.scalars(select(User.sector).distinct()))
    assert sectors == set(Sector)
    assert await db.scalar(select(func.count()).select_from(Vote)) > 1000
    assert await db.scalar(select(func.count()).where(Idea.author_sector.is_(None))) == 0
    assert await find_violations(db) == []
    await login(client, "moderator@example.org", DEMO_PASSWORD)
    page = await client.get("/processes/industrie-der-zukunft/ideas?q=Wasserstoff")
    assert page.status_code == 200 and "Wasserstoff" in page.text
    # The ministry finds nominations to decide on.
    await login(client, "ministry@example.org", DEMO_PASSWORD)
    shortlist = await client.get("/processes/industrie-der-zukunft/shortlist")
    assert shortlist.text.count('class="form decide-form"') == 8
    # The cycle before: measures with dated updates, the open ones carried into this one.
    carried = await client.get("/processes/industrie-der-zukunft/umsetzung")
    assert carried.text.count('<li class="card">') == 2 and "Fortgeführt aus" in carried.text
    earlier = await client.get("/processes/industriedialog-2025/umsetzung")
    assert earlier.text.count('<li class="card">') == 3 and "Abgeschlossen" in earlier.text
    assert await db.scalar(select(func.count()).select_from(MeasureUpdate)) == 5
    assert await db.scalar(select(func.count()).where(Idea.carried_over_from_id.is_not(None))) == 2
    consenting = await db.scalar(select(func.count()).where(User.name_in_exports))
    assert 0 < consenting < participants
