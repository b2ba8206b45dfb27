import pytest

from ideas_platform.core.config import DEFAULT_SECRET_KEY, ConfigurationError, Settings


def test_production_refuses_the_default_secret_key():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET_KEY).validate()
    Settings(environment="production", secret_key="x" * 48).validate()
    Settings(environment="development").validate()  # fine for a developer's machine


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("WORKERS", "4")
    monkeypatch.setenv("DEFAULT_LOCALE", "en")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://ideas@db:5432/ideas")
    settings = Settings.from_env()
    assert settings.is_production and settings.secure_cookies
    assert (settings.workers, settings.default_locale) == (4, "en")
    assert settings.database_url == "postgresql+asyncpg://ideas@db:5432/ideas"
    monkeypatch.setenv("DEFAULT_LOCALE", "fr")
    with pytest.raises(ConfigurationError):
        Settings.from_env().validate()
