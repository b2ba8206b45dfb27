"""Fuzzing the JSON API with schemathesis against its own OpenAPI (/schema/openapi.json).

Every operation gets generated requests, valid by the schema (positive) and invalid (negative),
with real path values (a seeded process, ideas, an event) as well as free ones, as a participant,
a ministry official (exports) and anonymously. No answer may be a 5xx, and every answer must be
documented: status code, content type, headers and body schema.

Cases are generated first (hypothesis, derandomized: the same cases on every run) and then sent
through the app's async test client on the test's event loop; all failures are reported at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from ideas_platform.accounts import service as accounts
from ideas_platform.core.choices import Role
from ideas_platform.shortlists import service as shortlists
from tests.helpers import make_event, make_idea, make_process, make_user

SLUG = "idz"
BASE_URL = "http://testserver.local"
# Examples per operation and generation mode; exports build files, so they get fewer.
EXAMPLES = 30
EXPORT_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass
class Scene:
    idea_ids: list[int]
    participant: dict[str, str]
    ministry: dict[str, str]
    ran: int = 0
    skipped: int = 0
    failures: dict[str, str] = field(default_factory=dict)


async def _bearer(session_factory: Any, user_id: int) -> dict[str, str]:
    async with session_factory() as session:
        token = await accounts.create_api_token(session, user_id, "Fuzz")
    return {"Authorization": f"Bearer {token}"}


async def _seed(session_factory: Any) -> Scene:
    process = await make_process(session_factory, slug=SLUG, budget=3)
    author = await make_user(session_factory, sector="civil_society")
    moderator = await make_user(session_factory, role=Role.MODERATOR)
    official = await make_user(session_factory, role=Role.MINISTRY)
    event = await make_event(session_factory, process, moderator, place="Chemnitz")
    ideas = [
        await make_idea(session_factory, process, author, title="Reparaturcafés überall"),
        await make_idea(session_factory, process, author, event_id=event.id),
        await make_idea(session_factory, process, moderator),
    ]
    async with session_factory() as session:
        await shortlists.nominate(
            session,
            process=process,
            moderator=moderator,
            rationale="Breit unterstützt.",
            idea_id=ideas[0].id,
        )
    return Scene(
        idea_ids=[i.id for i in ideas],
        participant=await _bearer(session_factory, author.id),
        ministry=await _bearer(session_factory, official.id),
    )


def _generate(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of a strategy, the same ones on every run."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        found.append(example)

    try:
        collect()
    except Unsatisfiable:  # e.g. no invalid request exists for an operation without inputs
        pass
    return found


def _strategies(operation: Any, scene: Scene) -> list[tuple[GenerationMode, Any]]:
    real: dict[str, Any] = {}
    if "{slug}" in operation.path:
        real["slug"] = SLUG
    if "{idea_id}" in operation.path:
        real["idea_id"] = scene.idea_ids[0]
    pinned = {"fmt": "csv"} if "{fmt}" in operation.path else {}
    out = [
        (GenerationMode.POSITIVE, operation.as_strategy(GenerationMode.POSITIVE)),
        (GenerationMode.NEGATIVE, operation.as_strategy(GenerationMode.NEGATIVE)),
    ]
    if real:
        out.append(
            (
                GenerationMode.POSITIVE,
                operation.as_strategy(GenerationMode.POSITIVE, path_parameters={**real, **pinned}),
            )
        )
        if pinned:
            out.append(
                (
                    GenerationMode.POSITIVE,
                    operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
                )
            )
    return out


async def _send(client: Any, case: Any, headers: dict[str, str]) -> Any:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
    body: dict[str, Any] = {}
    if "json" in kwargs:
        body["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body["content" if isinstance(data, (bytes, str)) else "data"] = data
    return await client.request(
        kwargs["method"],
        kwargs["url"],
        params=kwargs.get("params") or None,
        headers=kwargs.get("headers"),
        **body,
    )


async def _run(client: Any, scene: Scene, operation: Any, mode: Any, case: Any) -> None:
    exports = "/exports/" in operation.path
    for headers in (scene.ministry if exports else scene.participant, {}):
        try:
            response = await _send(client, case, headers)
        except httpx.InvalidURL:  # longer than any client would send (httpx: 65536)
            scene.skipped += 1
            continue
        scene.ran += 1
        checks = [*CHECKS, negative_data_rejection] if mode == GenerationMode.NEGATIVE else CHECKS
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            kinds = sorted({getattr(f, "title", type(f).__name__) for f in group.exceptions})
            key = f"{case.method} {operation.path} -> {response.status_code}: {', '.join(kinds)}"
            if key not in scene.failures:
                scene.failures[key] = (
                    f"{case.method} {response.request.url} body={getattr(case, 'body', None)!r}"
                    f"\n  -> {response.status_code} {response.text[:300]!r}\n{group}"
                )


async def test_api_survives_schemathesis(client, session_factory):
    scene = await _seed(session_factory)
    raw = (await client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(raw)
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        count = EXPORT_EXAMPLES if "/exports/" in operation.path else EXAMPLES
        for mode, strategy in _strategies(operation, scene):
            for case in _generate(strategy, count):
                await _run(client, scene, operation, mode, case)
    print(
        f"schemathesis: {scene.ran} requests ({scene.skipped} unsendable) "
        f"in {time.monotonic() - started:.1f}s"
    )
    assert not scene.failures, (
        "\n".join(scene.failures) + "\n\n" + "\n\n".join(list(scene.failures.values())[:20])
    )


async def test_csv_export_names_its_charset_once(client, session_factory):
    # found by the fuzzing: "text/csv; charset=utf-8; charset=utf-8"
    scene = await _seed(session_factory)
    response = await client.get(f"/api/processes/{SLUG}/exports/csv", headers=scene.ministry)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"


async def test_error_answers_are_documented(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    vote = paths["/api/ideas/{idea_id}/vote"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= set(vote)
    assert vote["409"]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorResponse")
    export = paths["/api/processes/{slug}/exports/{fmt}"]["get"]["responses"]["200"]
    assert {"text/csv", "application/pdf", "application/json"} <= set(export["content"])
