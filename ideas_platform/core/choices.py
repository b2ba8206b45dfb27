"""Closed vocabularies shared by several domains, with their (translatable) labels."""

from __future__ import annotations

from enum import StrEnum


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is displayed."""
    return message


class Sector(StrEnum):
    INDUSTRY = "industry"
    SCIENCE = "science"
    ADMINISTRATION = "administration"
    SOCIAL_PARTNERS = "social_partners"
    CIVIL_SOCIETY = "civil_society"
    OTHER = "other"


SECTOR_LABELS: dict[str, str] = {
    Sector.INDUSTRY: N_("Industry"),
    Sector.SCIENCE: N_("Science"),
    Sector.ADMINISTRATION: N_("Public administration"),
    Sector.SOCIAL_PARTNERS: N_("Social partners"),
    Sector.CIVIL_SOCIETY: N_("Civil society"),
    Sector.OTHER: N_("Other"),
}


class Region(StrEnum):
    BAUTZEN = "bautzen"
    CHEMNITZ = "chemnitz"
    DRESDEN = "dresden"
    ERZGEBIRGSKREIS = "erzgebirgskreis"
    GOERLITZ = "goerlitz"
    LEIPZIG = "leipzig"
    LANDKREIS_LEIPZIG = "landkreis_leipzig"
    MEISSEN = "meissen"
    MITTELSACHSEN = "mittelsachsen"
    NORDSACHSEN = "nordsachsen"
    SAECHSISCHE_SCHWEIZ = "saechsische_schweiz_osterzgebirge"
    VOGTLANDKREIS = "vogtlandkreis"
    ZWICKAU = "zwickau"
    BERLIN = "berlin"
    BRUSSELS = "brussels"
    ELSEWHERE = "elsewhere"


REGION_LABELS: dict[str, str] = {
    Region.BAUTZEN: N_("Bautzen (district)"),
    Region.CHEMNITZ: N_("Chemnitz (city)"),
    Region.DRESDEN: N_("Dresden (city)"),
    Region.ERZGEBIRGSKREIS: N_("Erzgebirgskreis (district)"),
    Region.GOERLITZ: N_("Görlitz (district)"),
    Region.LEIPZIG: N_("Leipzig (city)"),
    Region.LANDKREIS_LEIPZIG: N_("Leipzig (district)"),
    Region.MEISSEN: N_("Meißen (district)"),
    Region.MITTELSACHSEN: N_("Mittelsachsen (district)"),
    Region.NORDSACHSEN: N_("Nordsachsen (district)"),
    Region.SAECHSISCHE_SCHWEIZ: N_("Sächsische Schweiz-Osterzgebirge (district)"),
    Region.VOGTLANDKREIS: N_("Vogtlandkreis (district)"),
    Region.ZWICKAU: N_("Zwickau (district)"),
    Region.BERLIN: N_("Berlin"),
    Region.BRUSSELS: N_("Brussels"),
    Region.ELSEWHERE: N_("Elsewhere"),
}


class Role(StrEnum):
    PARTICIPANT = "participant"
    MODERATOR = "moderator"
    MINISTRY = "ministry"
    ADMIN = "admin"


ROLE_LABELS: dict[str, str] = {
    Role.PARTICIPANT: N_("Participant"),
    Role.MODERATOR: N_("Moderator"),
    Role.MINISTRY: N_("Ministry"),
    Role.ADMIN: N_("Administrator"),
}
