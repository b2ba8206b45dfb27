"""Capturing the paper cards of a workshop (moderation): the fast form for one card after
another, and the file import (upload, preview, confirm). Without JavaScript: POST-redirect-GET.

The import is stateless: the preview's confirmation form carries the file back (base64), and
the file is checked again before anything is written.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.accounts.auth import moderator_required
from ideas_platform.accounts.models import User
from ideas_platform.core.choices import N_
from ideas_platform.core.i18n import gettext, ngettext
from ideas_platform.core.requests import AppRequest
from ideas_platform.core.web import page
from ideas_platform.events import capture, live
from ideas_platform.events.models import Event
from ideas_platform.events.service import get_event
from ideas_platform.ideas import importer
from ideas_platform.ideas.models import Idea
from ideas_platform.moderation.dependencies import FORM_ACTIONS, Answer, Form
from ideas_platform.processes.service import list_topics

CARD_FIELDS = ("title", "body", "author_sector", "region", "topic_id")
CARD_SAVED = N_("The card “%(title)s” has been saved. Next card, please.")
MAX_FILENAME = 200


async def _capture_page(
    request: AppRequest,
    db_session: AsyncSession,
    event: Event,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    process = await capture.process_of(db_session, event)
    cards = await capture.captured_cards(db_session, event.id)
    if form is None:  # a fresh form: the region of the previous card preset
        form = {"region": cards.newest[0].idea.region.value if cards.newest else ""}
    return page(
        request,
        "events/capture.html",
        status_code=status_code,
        event=event,
        process=process,
        topics=await list_topics(db_session, process.id),
        cards=cards,
        form=form,
        errors=errors or {},
        fields=CARD_FIELDS,
    )


async def _import_page(
    request: AppRequest,
    db_session: AsyncSession,
    event: Event,
    *,
    problems: list[str] | None = None,
    status_code: int = 200,
) -> Template:
    process = await capture.process_of(db_session, event)
    return page(
        request,
        "events/import.html",
        status_code=status_code,
        event=event,
        process=process,
        topics=await list_topics(db_session, process.id),
        problems=problems or [],
        max_rows=importer.MAX_ROWS,
        max_megabytes=importer.MAX_MEGABYTES,
    )


async def _preview_page(
    request: AppRequest,
    db_session: AsyncSession,
    event: Event,
    preview: importer.Preview,
    *,
    data: bytes,
    filename: str,
) -> Template:
    return page(
        request,
        "events/import_preview.html",
        status_code=200 if preview.ok else 422,
        event=event,
        process=await capture.process_of(db_session, event),
        preview=preview,
        content=importer.encode_upload(data) if preview.ok else "",
        filename=filename,
    )


async def _failed_page(
    request: AppRequest,
    db_session: AsyncSession,
    event: Event,
    failure: importer.ImportFailed,
    *,
    filename: str = "",
) -> Template:
    """The preview again when rows were the problem (it has problems, so no confirmation form
    carries the file back), else the upload form with the messages."""
    if failure.preview is not None:
        return await _preview_page(
            request, db_session, event, failure.preview, data=b"", filename=filename
        )
    return await _import_page(
        request, db_session, event, problems=failure.translated_problems(), status_code=422
    )


async def _uploaded_file(request: AppRequest) -> tuple[bytes, str]:
    """The file of the upload form (read up to one byte beyond the limit: too large is told)."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise importer.ImportFailed([importer.Problem(importer.NO_FILE)])
    return await upload.read(importer.MAX_FILE_BYTES + 1), upload.filename[:MAX_FILENAME]


class CaptureController(Controller):
    include_in_schema = False
    guards = [moderator_required]
    dependencies = FORM_ACTIONS

    @get("/events/{event_id:int}/capture", name="event_capture")
    async def capture_form(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        event = await get_event(db_session, event_id)
        return await _capture_page(request, db_session, event)

    @post("/events/{event_id:int}/capture", name="event_capture_submit")
    async def capture_card(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, event_id: int
    ) -> Response[Any]:
        event = await get_event(db_session, event_id)
        return await answer.submit(
            lambda: capture.capture_card(
                db_session,
                event=event,
                moderator=moderator,
                title=form.get("title", ""),
                body=form.get("body", ""),
                author_sector=form.get("author_sector", ""),
                region=form.get("region", ""),
                topic_id=form.get("topic_id"),
            ),
            invalid=partial(_capture_page, answer.request, db_session, event),
            announce=lambda idea: _on_screen(answer, [idea]),
            done=lambda idea: gettext(CARD_SAVED, title=idea.title),
            then=lambda _: answer.see_other("event_capture", event_id=event.id),
        )

    @get("/events/{event_id:int}/import", name="event_import")
    async def import_form(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        event = await get_event(db_session, event_id)
        return await _import_page(request, db_session, event)

    @get("/events/{event_id:int}/import/template.csv", name="event_import_template")
    async def import_template(self, db_session: AsyncSession, event_id: int) -> Response[bytes]:
        event = await get_event(db_session, event_id)
        topics = await list_topics(db_session, event.process_id)
        return Response(
            content=importer.template_csv(topics[0].name if topics else ""),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="ideen-vorlage.csv"'},
        )

    @post("/events/{event_id:int}/import/preview", name="event_import_preview")
    async def import_preview(
        self, request: AppRequest, db_session: AsyncSession, event_id: int
    ) -> Template:
        event = await get_event(db_session, event_id)
        try:
            data, filename = await _uploaded_file(request)
            preview = await capture.preview_import(db_session, event, data, filename)
        except importer.ImportFailed as exc:
            return await _failed_page(request, db_session, event, exc)
        return await _preview_page(
            request, db_session, event, preview, data=data, filename=filename
        )

    @post("/events/{event_id:int}/import", name="event_import_submit")
    async def import_file(
        self, moderator: User, db_session: AsyncSession, form: Form, answer: Answer, event_id: int
    ) -> Response[Any]:
        event = await get_event(db_session, event_id)
        filename = form.get("filename", "")[:MAX_FILENAME]
        try:
            return await answer.submit(
                lambda: capture.import_cards(
                    db_session,
                    event=event,
                    moderator=moderator,
                    data=importer.decode_upload(form.get("content", "")),
                    filename=filename,
                ),
                announce=lambda ideas: _on_screen(answer, ideas),
                done=lambda ideas: ngettext(
                    "%(num)s idea imported.", "%(num)s ideas imported.", len(ideas)
                ),
                then=lambda _: answer.see_other("event_capture", event_id=event.id),
            )
        except importer.ImportFailed as exc:  # the file's report, not a form's field errors
            return await _failed_page(answer.request, db_session, event, exc, filename=filename)


def _on_screen(answer: Answer, ideas: list[Idea]) -> None:
    """After the commit: the projector shows the new ideas."""
    for idea in ideas:
        live.announce_idea(answer.channels, idea)
