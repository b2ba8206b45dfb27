"""Closed vocabularies shared by several domains, with their (translatable) labels."""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from ideas_platform.core.i18n import gettext


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is displayed."""
    return message


class LabelledEnum(StrEnum):
    """A closed vocabulary whose members carry their label (English, marked for translation):

        class Sector(LabelledEnum):
            INDUSTRY = "industry", N_("Industry")

    `Sector.INDUSTRY == "industry"`, `.label` is the English label, `.text` the label in the
    current request's language."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        return member

    @property
    def text(self) -> str:
        return gettext(self.label)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Value → English label, for templates and forms that look a label up by value."""
        return {member.value: member.label for member in cls}


class Sector(LabelledEnum):
    INDUSTRY = "industry", N_("Industry")
    SCIENCE = "science", N_("Science")
    ADMINISTRATION = "administration", N_("Public administration")
    SOCIAL_PARTNERS = "social_partners", N_("Social partners")
    CIVIL_SOCIETY = "civil_society", N_("Civil society")
    OTHER = "other", N_("Other")


SECTOR_LABELS: dict[str, str] = Sector.labels()


class Region(LabelledEnum):
    BAUTZEN = "bautzen", N_("Bautzen (district)")
    CHEMNITZ = "chemnitz", N_("Chemnitz (city)")
    DRESDEN = "dresden", N_("Dresden (city)")
    ERZGEBIRGSKREIS = "erzgebirgskreis", N_("Erzgebirgskreis (district)")
    GOERLITZ = "goerlitz", N_("Görlitz (district)")
    LEIPZIG = "leipzig", N_("Leipzig (city)")
    LANDKREIS_LEIPZIG = "landkreis_leipzig", N_("Leipzig (district)")
    MEISSEN = "meissen", N_("Meißen (district)")
    MITTELSACHSEN = "mittelsachsen", N_("Mittelsachsen (district)")
    NORDSACHSEN = "nordsachsen", N_("Nordsachsen (district)")
    SAECHSISCHE_SCHWEIZ = (
        "saechsische_schweiz_osterzgebirge",
        N_("Sächsische Schweiz-Osterzgebirge (district)"),
    )
    VOGTLANDKREIS = "vogtlandkreis", N_("Vogtlandkreis (district)")
    ZWICKAU = "zwickau", N_("Zwickau (district)")
    BERLIN = "berlin", N_("Berlin")
    BRUSSELS = "brussels", N_("Brussels")
    ELSEWHERE = "elsewhere", N_("Elsewhere")


REGION_LABELS: dict[str, str] = Region.labels()


class Role(LabelledEnum):
    PARTICIPANT = "participant", N_("Participant")
    MODERATOR = "moderator", N_("Moderator")
    MINISTRY = "ministry", N_("Ministry")
    ADMIN = "admin", N_("Administrator")


ROLE_LABELS: dict[str, str] = Role.labels()
