"""Settings, read once from the environment (and an optional `.env` file)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_SECRET_KEY = "dev-insecure-change-me-0123456789abcdef"  # noqa: S105 - the documented default
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class ConfigurationError(RuntimeError):
    """The settings are unusable (e.g. the default secret key in production)."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "data")
    secret_key: str = DEFAULT_SECRET_KEY
    environment: str = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    default_locale: str = "de"
    db_pool_size: int = 10
    db_max_overflow: int = 20
    auth_rate_limit_per_minute: int = 5
    submit_rate_limit_per_minute: int = 30
    join_rate_limit_per_minute: int = 1200
    secure_cookies: bool = False
    # Where people reach the platform; links in exports start with it.
    public_url: str = "http://127.0.0.1:8000"
    # Impressum, privacy notice, accessibility statement, terms: Markdown files the operator
    # writes (see ideas_platform/legal/pages for the shipped German templates).
    legal_pages_dir: Path = field(
        default_factory=lambda: PROJECT_ROOT / "ideas_platform" / "legal" / "pages"
    )
    # Mail. Without SMTP_HOST mails are not sent: they go to the log and to /admin/outbox.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = 15.0
    mail_from: str = "Ideenplattform <noreply@ideen.example.org>"
    # Each app process runs the outbox sender (PostgreSQL hands each mail to one of them).
    mail_sender_enabled: bool = True
    mail_poll_seconds: float = 2.0
    # Mails each app process writes and sends per second at most (0: as fast as it can).
    mail_rate_per_second: float = 8.0
    # "Immediately" waits this long and sends everything that came meanwhile as one mail.
    notification_bundle_seconds: int = 60
    # Bump when the terms or the privacy notice change: everybody is asked again at login.
    consent_version: str = "2026-12"
    # Guest accounts (joining a workshop with just a name) one client address may create per
    # hour. A workshop room shares the venue's one address: ~100 people join within minutes,
    # some a second time (another phone, a closed private tab), and a second workshop may run
    # in the same building within the hour; 250 leaves room for that. A single address cannot
    # make more guests than that to stuff votes (issue 17); raise it for a larger congress.
    guest_joins_per_address_per_hour: int = 250
    # The ranking counts all votes of a process (a second at a million votes): each process
    # keeps the count, recounts when votes or ideas changed, but at most this often.
    ranking_refresh_seconds: float = 5.0
    # Pages a visitor without a login sees (idea list, idea, ranking, start page) are kept this
    # long in each app process (core.page_cache); every write drops them at once. 0: not kept.
    page_cache_seconds: float = 10.0
    # Answer `X-Page-Cache: hit|miss` (benchmarks, tests). Off in production: a "hit" would tell
    # a stranger that somebody opened that very address (e.g. a search) seconds ago.
    page_cache_header: bool = False
    # Request bodies (core.body_limits), checked before anything parses them: the largest body
    # of a form or an API call (the longest texts, 20,000 characters, fit many times over), the
    # most fields of one urlencoded form (the longest real one, the next cycle's, offers up to
    # 500 ideas and the measures), and the workshop import's own limit (a 2 MB file; its
    # confirmation sends it back base64-encoded).
    max_body_bytes: int = 1024 * 1024
    max_form_fields: int = 2000
    import_max_body_bytes: int = 4 * 1024 * 1024

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def validate(self) -> None:
        if self.is_production and self.secret_key == DEFAULT_SECRET_KEY:
            raise ConfigurationError(
                "SECRET_KEY is still the default; set a long random SECRET_KEY in production."
            )
        if len(self.secret_key) < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters long.")
        if "\r" in self.mail_from or "\n" in self.mail_from or "@" not in self.mail_from:
            raise ConfigurationError("MAIL_FROM must be one address, e.g. 'Name <a@b.example>'.")
        if self.default_locale not in {"de", "en"}:
            raise ConfigurationError("DEFAULT_LOCALE must be 'de' or 'en'.")

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv(PROJECT_ROOT / ".env", override=False)
        env = os.environ
        environment = env.get("APP_ENV", "development")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("DATA_DIR", str(PROJECT_ROOT / "data"))),
            secret_key=env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
            environment=environment,
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8000")),
            workers=int(env.get("WORKERS", "1")),
            default_locale=env.get("DEFAULT_LOCALE", "de"),
            db_pool_size=int(env.get("DB_POOL_SIZE", "10")),
            db_max_overflow=int(env.get("DB_MAX_OVERFLOW", "20")),
            auth_rate_limit_per_minute=int(env.get("AUTH_RATE_LIMIT_PER_MINUTE", "5")),
            submit_rate_limit_per_minute=int(env.get("SUBMIT_RATE_LIMIT_PER_MINUTE", "30")),
            join_rate_limit_per_minute=int(env.get("JOIN_RATE_LIMIT_PER_MINUTE", "1200")),
            secure_cookies=_bool(env.get("SECURE_COOKIES"), default=environment == "production"),
            smtp_host=env.get("SMTP_HOST", "").strip(),
            smtp_port=int(env.get("SMTP_PORT", "587")),
            smtp_user=env.get("SMTP_USER", ""),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env.get("SMTP_STARTTLS"), default=True),
            smtp_timeout_seconds=float(env.get("SMTP_TIMEOUT_SECONDS", "15")),
            mail_from=env.get("MAIL_FROM", cls.mail_from),
            mail_sender_enabled=_bool(env.get("MAIL_SENDER_ENABLED"), default=True),
            mail_poll_seconds=float(env.get("MAIL_POLL_SECONDS", "2")),
            mail_rate_per_second=float(env.get("MAIL_RATE_PER_SECOND", "8")),
            notification_bundle_seconds=int(env.get("NOTIFICATION_BUNDLE_SECONDS", "60")),
            consent_version=env.get("CONSENT_VERSION", cls.consent_version).strip()
            or cls.consent_version,
            ranking_refresh_seconds=float(env.get("RANKING_REFRESH_SECONDS", "5")),
            page_cache_seconds=float(env.get("PAGE_CACHE_SECONDS", "10")),
            page_cache_header=_bool(env.get("PAGE_CACHE_HEADER")),
            legal_pages_dir=Path(
                env.get("LEGAL_PAGES_DIR", str(PROJECT_ROOT / "ideas_platform/legal/pages"))
            ),
            public_url=env.get("PUBLIC_URL", "").rstrip("/")
            or f"http://{env.get('HOST', '127.0.0.1')}:{env.get('PORT', '8000')}",
            guest_joins_per_address_per_hour=int(
                env.get("GUEST_JOINS_PER_ADDRESS_PER_HOUR", "250")
            ),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", str(cls.max_body_bytes))),
            max_form_fields=int(env.get("MAX_FORM_FIELDS", str(cls.max_form_fields))),
            import_max_body_bytes=int(
                env.get("IMPORT_MAX_BODY_BYTES", str(cls.import_max_body_bytes))
            ),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
