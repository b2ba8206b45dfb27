"""The PDF dossier (placeholder until the renderer lands)."""

from __future__ import annotations

from typing import BinaryIO

from ideas_platform.exports.dataset import ExportData, Progress


async def write_pdf(
    data: ExportData, out: BinaryIO, base_url: str, progress: Progress | None = None
) -> None:
    raise NotImplementedError
