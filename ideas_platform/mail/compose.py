"""Writing a mail into the outbox: rendered in the recipient's language, in the caller's
transaction (so the mail exists exactly when what caused it was committed)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from ideas_platform.core.config import PROJECT_ROOT, Settings
from ideas_platform.core.i18n import gettext, using_locale
from ideas_platform.core.signing import is_signed, signature
from ideas_platform.mail.models import OutboxMail

_LINE_BREAKS = re.compile(r"[\r\n\x00\u2028\u2029]+")


def header_safe(value: str, max_length: int = 250) -> str:
    """A header value can never start a new header: line breaks become spaces."""
    return _LINE_BREAKS.sub(" ", value or "").strip()[:max_length]


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    display_name: str = ""
    user_id: int | None = None
    locale: str = "de"


@cache
def mail_environment() -> Environment:
    from ideas_platform.core.templating import configure_environment

    env = Environment(
        loader=FileSystemLoader(PROJECT_ROOT / "templates" / "mail"),
        autoescape=select_autoescape(["html"]),
    )
    configure_environment(env)
    return env


def unsubscribe_token(settings: Settings, user_id: int) -> str:
    """Signed, so that the link in a mail works without a login (RFC 8058 one-click)."""
    return f"{user_id}.{signature(settings.secret_key, 'unsubscribe', str(user_id))}"


def user_of_unsubscribe_token(settings: Settings, token: str) -> int | None:
    user_part, _, signed = (token or "").partition(".")
    if not user_part.isascii() or not user_part.isdigit() or len(user_part) > 18:
        return None
    ok = is_signed(settings.secret_key, "unsubscribe", user_part, signed)
    return int(user_part) if ok and str(int(user_part)) == user_part else None


def enqueue(
    session: AsyncSession,
    settings: Settings,
    *,
    to: Recipient,
    template: str,
    subject: str,
    kind: str | None = None,
    **context: Any,
) -> OutboxMail:
    """Renders `templates/mail/<template>.txt` and `.html` in the recipient's language and adds
    the mail to the session. `subject` is an English source string (translated here)."""
    env = mail_environment()
    with using_locale(to.locale):
        context = {
            "public_url": settings.public_url,
            "recipient": to,
            "unsubscribe_url": None,
            **context,
        }
        headers: dict[str, str] = {}
        if to.user_id is not None:
            url = f"{settings.public_url}/unsubscribe/{unsubscribe_token(settings, to.user_id)}"
            context["unsubscribe_url"] = url
            headers["List-Unsubscribe"] = f"<{url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        translated_subject = header_safe(gettext(subject, **context.get("subject_params", {})))
        context["subject"] = translated_subject
        body_text = env.get_template(f"{template}.txt").render(context)
        body_html = env.get_template(f"{template}.html").render(context)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    mail = OutboxMail(
        kind=kind or template,
        to_address=header_safe(to.address, 254),
        to_user_id=to.user_id,
        locale=to.locale,
        subject=translated_subject[:300],
        body_text=body_text,
        body_html=body_html,
        headers=headers,
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        attempts=0,
    )
    session.add(mail)
    return mail
