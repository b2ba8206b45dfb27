"""Invented German demo content for the process "Industrie der Zukunft".

Everything here is fictional: the ministry, the organisations, the people and the ideas. Names of
people are combined at random from common German first and last names; organisations that could be
mistaken for real ones carry "(fiktiv)".
"""

from __future__ import annotations

from typing import Any

from ideas_platform.core.choices import Region, Sector

PROCESS: dict[str, str] = {
    "slug": "industrie-der-zukunft",
    "title": "Industrie der Zukunft",
    "description": (
        "**Industrie der Zukunft** ist der Beteiligungsprozess des Sächsischen Staatsministeriums "
        "für Wirtschaft und Industrie (fiktiv) zur neuen Industriestrategie des Freistaates. "
        "Gemeinsam mit Unternehmen, Hochschulen und Forschungseinrichtungen, Kammern, "
        "Gewerkschaften, Verwaltung und Zivilgesellschaft wollen wir herausfinden, welche "
        "Projekte die sächsische Industrie in den nächsten zehn Jahren wirklich voranbringen.\n\n"
        "So machen Sie mit:\n\n"
        "- **Ideen einreichen:** Beschreiben Sie kurz ein konkretes Vorhaben – online oder bei "
        "einem unserer Workshops vor Ort.\n"
        "- **Abstimmen:** Geben Sie den Ideen Ihre Stimme, die Sie für besonders wichtig "
        "halten.\n"
        "- **Kommentieren:** Ergänzen Sie Erfahrungen, Bedenken und Verbesserungsvorschläge.\n\n"
        "Nach der Abstimmungsphase fasst das Moderationsteam ähnliche Ideen zu Themen "
        "zusammen. Eine Auswahlliste mit den am stärksten unterstützten und am besten "
        "begründeten Vorschlägen geht anschließend als Übergabedossier an das Ministerium – "
        "nachvollziehbar mit Herkunft und Unterstützung jeder einzelnen Idee."
    ),
}

T_DIGI = "Digitalisierung & KI"
T_SKILLS = "Fachkräfte & Qualifizierung"
T_ENERGY = "Energie & Klimaneutralität"
T_TRANSFER = "Transfer & Innovation"
T_AM = "Additive Fertigung"
T_CIRCULAR = "Kreislaufwirtschaft"
T_MOBILITY = "Mobilität & Logistik"

TOPICS: list[str] = [T_DIGI, T_SKILLS, T_ENERGY, T_TRANSFER, T_AM, T_CIRCULAR, T_MOBILITY]

# days: offset from today (negative = in the past).
EVENTS: list[dict[str, Any]] = [
    {
        "title": "Auftaktkonferenz Dresden: Industrie der Zukunft",
        "place": "Dresden, Internationales Congress Center",
        "days": -28,
        "description": (
            "Offizieller Start des Beteiligungsprozesses mit Impulsvorträgen, Themeninseln und "
            "einer ersten Ideensammlung an Stellwänden und Tablets."
        ),
    },
    {
        "title": "Werkstattgespräch Chemnitz: Additive Fertigung",
        "place": "Chemnitz, Technologiepark (Halle 3)",
        "days": -21,
        "description": (
            "Anwenderinnen und Anwender aus Maschinenbau, Medizintechnik und Forschung "
            "diskutieren, wie der 3D-Druck vom Prototyp in die Serie kommt."
        ),
    },
    {
        "title": "Zukunftswerkstatt Leipzig: Fachkräfte & Qualifizierung",
        "place": "Leipzig, Berufsbildungszentrum Nord (fiktiv)",
        "days": -14,
        "description": (
            "Ausbildungsbetriebe, Berufsschulen, Kammern und Gewerkschaften sammeln Ideen gegen "
            "den Fachkräftemangel – von der Berufsorientierung bis zur Weiterbildung."
        ),
    },
    {
        "title": "Regionalforum Lausitz: Energie & Strukturwandel",
        "place": "Görlitz, Stadthalle",
        "days": -7,
        "description": (
            "Wie gelingt der Umstieg auf erneuerbare Energie und Wasserstoff in der Lausitz? "
            "Unternehmen und Kommunen bringen ihre Vorhaben ein."
        ),
    },
    {
        "title": "Sachsen-Abend in Brüssel: Europäische Industriepolitik",
        "place": "Brüssel, Verbindungsbüro des Freistaates Sachsen",
        "days": 12,
        "description": (
            "Gespräch mit Vertreterinnen und Vertretern europäischer Institutionen über "
            "Förderprogramme, den Chips Act und die Netto-Null-Industrie."
        ),
    },
    {
        "title": "Hauptstadtdialog Berlin: Transfer & Innovation",
        "place": "Berlin, Landesvertretung Sachsen",
        "days": 25,
        "description": (
            "Wie kommen Forschungsergebnisse schneller in sächsische Betriebe? Ein Abend mit "
            "Ausgründungen, Investoren und Transferstellen."
        ),
    },
]

_I = Sector.INDUSTRY
_S = Sector.SCIENCE
_A = Sector.ADMINISTRATION
_P = Sector.SOCIAL_PARTNERS
_C = Sector.CIVIL_SOCIETY
_O = Sector.OTHER


def _idea(
    title: str, body: str, topic: str, region: Region, sector: Sector, event: int | None = None
) -> dict[str, Any]:
    return {
        "title": title,
        "body": body,
        "topic": topic,
        "region": region,
        "author_sector": sector,
        "event": event,
    }


IDEAS: list[dict[str, Any]] = [
    # --- Digitalisierung & KI -------------------------------------------------------------------
    _idea(
        "KI-Gutscheine für den Einstieg kleiner Industriebetriebe",
        "Viele kleine Betriebe wissen nicht, ob sich KI für sie lohnt. Ein Gutschein über bis zu "
        "15.000 Euro könnte eine Machbarkeitsstudie mit einer Hochschule oder einem "
        "zertifizierten Dienstleister finanzieren. Der Antrag sollte höchstens zwei Seiten haben "
        "und innerhalb von vier Wochen entschieden werden.",
        T_DIGI,
        Region.CHEMNITZ,
        _I,
        0,
    ),
    _idea(
        "Innovationsgutscheine für erste KI-Projekte im Mittelstand",
        "Mittelständler brauchen einen niedrigschwelligen Einstieg in künstliche Intelligenz. "
        "Vorschlag: ein Förderscheck, mit dem Betriebe externe Beratung und einen ersten "
        "Prototypen bezahlen können.\n\n"
        "- einfacher Onlineantrag\n"
        "- Eigenanteil höchstens 20 Prozent\n"
        "- Liste geprüfter Anbieter aus Sachsen",
        T_DIGI,
        Region.LEIPZIG,
        _P,
    ),
    _idea(
        "Regionale Datenräume für die Fertigungsindustrie nach Gaia-X-Prinzipien",
        "Zulieferer und Hersteller sollen Maschinen- und Qualitätsdaten sicher austauschen "
        "können, ohne die Hoheit über ihre Daten abzugeben. Ein sächsischer Datenraum mit "
        "offenen Schnittstellen würde gemeinsame Auswertungen entlang der Lieferkette "
        "ermöglichen. Die Hochschulen könnten den Betrieb in der Startphase übernehmen.",
        T_DIGI,
        Region.DRESDEN,
        _S,
    ),
    _idea(
        "Offene KI-Testumgebung für die optische Qualitätsprüfung",
        "Eine gemeinsame Testumgebung mit Kameras, Beleuchtung und Beispieldaten, in der "
        "Betriebe KI-gestützte Bildprüfung ausprobieren können, bevor sie investieren. "
        "Gerade in der Zulieferindustrie rund um Zwickau wäre der Bedarf groß.",
        T_DIGI,
        Region.ZWICKAU,
        _I,
    ),
    _idea(
        "Kostenloser Cybersicherheits-Check für Zulieferbetriebe",
        "Angriffe auf kleine Zulieferer legen immer öfter ganze Lieferketten lahm. Das Land "
        "sollte einen kostenlosen Basis-Check anbieten, bei dem Fachleute Netzwerk, Backups und "
        "Notfallpläne prüfen. Die Ergebnisse bleiben vertraulich beim Betrieb.",
        T_DIGI,
        Region.MITTELSACHSEN,
        _A,
    ),
    _idea(
        "Digitaler Zwilling für Gewerbegebiete als Planungswerkzeug der Kommunen",
        "Kommunen planen Flächen, Leitungen und Verkehr für Gewerbegebiete oft noch auf Papier. "
        "Ein digitaler Zwilling mit Energie-, Verkehrs- und Flächendaten würde Ansiedlungen "
        "beschleunigen und Konflikte früh sichtbar machen.",
        T_DIGI,
        Region.LANDKREIS_LEIPZIG,
        _A,
    ),
    _idea(
        "Glasfaser und 5G-Campusnetze in allen Industriegebieten bis 2030",
        "Ohne schnelle und stabile Netze bleiben vernetzte Produktion und Fernwartung "
        "Theorie. Besonders im Erzgebirge warten viele Gewerbegebiete noch auf Glasfaser.\n\n"
        "- Ausbau gezielt in Gewerbegebieten priorisieren\n"
        "- Frequenzen für Campusnetze unbürokratisch vergeben\n"
        "- gemeinsame Netze für mehrere Betriebe fördern",
        T_DIGI,
        Region.ERZGEBIRGSKREIS,
        _I,
    ),
    _idea(
        "KI-Lotsen in den Kammern für Betriebe ohne eigene IT-Abteilung",
        "Kammern sollten Lotsinnen und Lotsen beschäftigen, die Betriebe vor Ort besuchen und "
        "einfache KI-Anwendungen zeigen – von der Angebotserstellung bis zur "
        "Wartungsplanung. So erreicht man auch Firmen, die nie zu einer Konferenz fahren würden.",
        T_DIGI,
        Region.VOGTLANDKREIS,
        _P,
        0,
    ),
    _idea(
        "Open-Source-Software für Maschinensteuerungen gemeinsam entwickeln",
        "Viele Maschinenbauer entwickeln ähnliche Steuerungssoftware jeweils für sich. Eine "
        "offene Gemeinschaftsentwicklung, koordiniert von einem Verein, könnte Kosten senken "
        "und Abhängigkeiten von großen Anbietern verringern.",
        T_DIGI,
        Region.DRESDEN,
        _C,
    ),
    _idea(
        "Digitale Produktpässe: sächsische Zulieferer rechtzeitig vorbereiten",
        "Die EU wird digitale Produktpässe für immer mehr Produktgruppen verlangen. Kleine "
        "Zulieferer brauchen Schulungen, Musterdatensätze und eine Anlaufstelle, damit sie bei "
        "Ausschreibungen nicht herausfallen.",
        T_DIGI,
        Region.ZWICKAU,
        _I,
    ),
    _idea(
        "Landesweite Sammlung erfolgreicher KI-Anwendungen aus sächsischen Betrieben",
        "Nichts überzeugt Betriebe mehr als Beispiele aus der Nachbarschaft. Eine öffentliche "
        "Sammlung mit kurzen Steckbriefen – Problem, Lösung, Kosten, Ansprechperson – würde "
        "Nachahmer ermutigen.",
        T_DIGI,
        Region.LEIPZIG,
        _S,
    ),
    _idea(
        "Beschäftigte und Betriebsräte bei der Einführung von KI früh beteiligen",
        "KI verändert Arbeitsplätze. Wenn Beschäftigte früh eingebunden werden, steigt die "
        "Akzeptanz und die Lösungen werden besser. Das Land könnte Qualifizierungen für "
        "Betriebsräte und Musterbetriebsvereinbarungen fördern.",
        T_DIGI,
        Region.CHEMNITZ,
        _P,
        0,
    ),
    # --- Fachkräfte & Qualifizierung ------------------------------------------------------------
    _idea(
        "Landesweite Praktikumsbörse für Industrieberufe mit Fahrtkostenzuschuss",
        "Schülerinnen und Schüler finden Praktika meist nur in der Nähe der Schule. Eine "
        "landesweite Börse mit Fahrtkostenzuschuss würde auch Betriebe im ländlichen Raum "
        "sichtbar machen. Die Betriebe pflegen ihre Angebote selbst.",
        T_SKILLS,
        Region.NORDSACHSEN,
        _A,
        2,
    ),
    _idea(
        "Praktikumsportal: Jugendliche in sächsische Industriebetriebe bringen",
        "Ein zentrales Portal, auf dem alle Industriebetriebe Praktikumsplätze anbieten, würde "
        "die Suche für Jugendliche und Eltern erleichtern. Wichtig wäre, dass auch die Anreise "
        "mit Bus und Bahn bezahlt wird.",
        T_SKILLS,
        Region.MEISSEN,
        _C,
    ),
    _idea(
        "Ausbildungsverbund Mikroelektronik für kleine und mittlere Betriebe",
        "Die großen Chipfabriken bilden selbst aus, kleine Zulieferer können das oft nicht "
        "allein. Ein Verbund, in dem Auszubildende Stationen in mehreren Betrieben und einem "
        "Reinraum-Lernzentrum durchlaufen, würde den Nachwuchs für das ganze Ökosystem sichern.",
        T_SKILLS,
        Region.DRESDEN,
        _I,
        2,
    ),
    _idea(
        "Gemeinsame Ausbildung von Halbleiter-Fachkräften über Betriebsgrenzen hinweg",
        "Rund um Dresden fehlen Mikrotechnologinnen und Mikrotechnologen. Kleine Betriebe "
        "sollten gemeinsam ausbilden können:\n\n"
        "- ein Ausbildungsvertrag, mehrere Lernorte\n"
        "- gemeinsames Übungslabor mit Reinraum\n"
        "- Landesförderung für die Koordination",
        T_SKILLS,
        Region.SAECHSISCHE_SCHWEIZ,
        _P,
    ),
    _idea(
        "Teilqualifizierung für Quereinsteigende in der Metall- und Elektroindustrie",
        "Viele Menschen ohne Berufsabschluss arbeiten seit Jahren in der Produktion. Modulare "
        "Teilqualifizierungen, die sich Schritt für Schritt zum vollen Abschluss addieren, "
        "sollten berufsbegleitend und kostenfrei möglich sein.",
        T_SKILLS,
        Region.ZWICKAU,
        _P,
        2,
    ),
    _idea(
        "Zentrale Stelle für die schnelle Anerkennung ausländischer Berufsabschlüsse",
        "Die Anerkennung ausländischer Abschlüsse dauert oft viele Monate und läuft über "
        "verschiedene Stellen. Eine zentrale, digitale Anlaufstelle mit festen Fristen würde "
        "Betrieben und Fachkräften viel Zeit sparen.",
        T_SKILLS,
        Region.LEIPZIG,
        _I,
    ),
    _idea(
        "Weiterbildungs-Zeitkonto für Beschäftigte in der Transformation",
        "Beschäftigte sollen Zeitguthaben für Weiterbildung ansparen können, das der Betrieb "
        "und das Land gemeinsam aufstocken. So wird Lernen planbar, auch wenn die Auftragslage "
        "gut ist.",
        T_SKILLS,
        Region.CHEMNITZ,
        _P,
    ),
    _idea(
        "Wohnheime für Auszubildende an ländlichen Industriestandorten",
        "Jugendliche ziehen für die Ausbildung nicht in Orte, in denen sie keine bezahlbare "
        "Wohnung finden. Kleine Azubi-Wohnheime, gemeinsam getragen von Kommunen und "
        "Betrieben, könnten das ändern.",
        T_SKILLS,
        Region.GOERLITZ,
        _A,
    ),
    _idea(
        "Mentoring-Programm: mehr Frauen in technische Berufe",
        "Ingenieurinnen und Facharbeiterinnen begleiten Schülerinnen und Studentinnen ein Jahr "
        "lang. Betriebe stellen die Mentorinnen dafür einige Stunden im Monat frei. Gute "
        "Vorbilder wirken stärker als jede Werbekampagne.",
        T_SKILLS,
        Region.DRESDEN,
        _C,
    ),
    _idea(
        "Mobile Lernfabrik für die Berufsorientierung an Oberschulen",
        "Ein umgebauter Lkw mit CNC-Fräse, Roboterarm und 3D-Drucker fährt durch die "
        "Landkreise und macht an Oberschulen Station. Auszubildende aus der Region erklären "
        "die Maschinen selbst.",
        T_SKILLS,
        Region.BAUTZEN,
        _A,
        2,
    ),
    _idea(
        "Deutschkurse im Betrieb während der Arbeitszeit fördern",
        "Ausländische Fachkräfte lernen schneller Deutsch, wenn der Kurs im Betrieb und mit "
        "Fachvokabular stattfindet. Das Land sollte die Kursgebühren und einen Teil des "
        "Lohnausfalls übernehmen.",
        T_SKILLS,
        Region.MITTELSACHSEN,
        _I,
    ),
    _idea(
        "Aufstiegsbonus auch für Technikerinnen, Techniker und Fachwirte",
        "Der Meisterbonus ist ein gutes Signal. Er sollte auf staatlich geprüfte Technikerinnen "
        "und Techniker sowie Fachwirte ausgeweitet werden, die in der Industrie genauso "
        "gebraucht werden.",
        T_SKILLS,
        Region.VOGTLANDKREIS,
        _P,
    ),
    _idea(
        "Erfahrene Fachkräfte als Tandem-Mentoren für Auszubildende halten",
        "Wer kurz vor der Rente steht, könnte in Teilzeit als Ausbildungsmentor weiterarbeiten. "
        "So bleibt Erfahrungswissen im Betrieb, und Auszubildende haben eine feste "
        "Ansprechperson.",
        T_SKILLS,
        Region.ERZGEBIRGSKREIS,
        _O,
    ),
    # --- Energie & Klimaneutralität -------------------------------------------------------------
    _idea(
        "Genehmigung von Photovoltaik auf Industriedächern beschleunigen",
        "Viele Hallendächer könnten Strom für die eigene Produktion liefern. Statik-Prüfung, "
        "Netzanschluss und Baugenehmigung dauern aber oft länger als ein Jahr. Ein digitales "
        "Verfahren mit festen Fristen und einer Ansprechperson pro Landkreis würde helfen.",
        T_ENERGY,
        Region.MEISSEN,
        _I,
        3,
    ),
    _idea(
        "Solardächer auf Gewerbehallen: Genehmigungsverfahren vereinfachen und digitalisieren",
        "Betriebe wollen Solaranlagen auf ihre Hallen bauen, scheitern aber an langwierigen "
        "Verfahren. Vorschlag:\n\n"
        "- Genehmigungsfreiheit bis zu einer bestimmten Größe\n"
        "- ein Onlineantrag für Netzbetreiber und Bauamt\n"
        "- Musterstatik für typische Hallenbauweisen",
        T_ENERGY,
        Region.LANDKREIS_LEIPZIG,
        _A,
    ),
    _idea(
        "Wasserstoff-Anschlussleitungen für die Industrieparks der Lausitz",
        "Die großen Wasserstoffleitungen führen an vielen Lausitzer Gewerbegebieten vorbei. "
        "Kurze Stichleitungen, gemeinsam geplant von Land, Kommunen und Netzbetreibern, würden "
        "die Standorte für energieintensive Ansiedlungen attraktiv machen.",
        T_ENERGY,
        Region.GOERLITZ,
        _A,
        3,
    ),
    _idea(
        "Lausitzer Gewerbegebiete an das Wasserstoff-Kernnetz anbinden",
        "Ohne Anschluss an das Wasserstoffnetz wird die Lausitz beim Strukturwandel abgehängt. "
        "Das Land sollte die Planung der Verbindungsleitungen jetzt vorfinanzieren, damit sie "
        "rechtzeitig mit dem Kernnetz fertig werden.",
        T_ENERGY,
        Region.BAUTZEN,
        _I,
    ),
    _idea(
        "Abwärmekataster für Sachsen: Industrieabwärme in Wärmenetze einspeisen",
        "Viele Betriebe leiten Abwärme ungenutzt in die Luft. Ein landesweites Kataster zeigt, "
        "wo Abwärme anfällt und wo Wärmenetze sie abnehmen könnten. Kommunale Wärmeplanung und "
        "Industrie würden so endlich zusammen planen.",
        T_ENERGY,
        Region.LEIPZIG,
        _S,
    ),
    _idea(
        "Energieeffizienz-Netzwerke für Gießereien und Schmieden",
        "Gießereien und Schmieden haben ähnliche Prozesse und ähnliche Probleme mit den "
        "Energiekosten. In moderierten Netzwerken tauschen sie Erfahrungen aus und setzen sich "
        "gemeinsame Einsparziele. Eine Energieberatung pro Netzwerk sollte gefördert werden.",
        T_ENERGY,
        Region.MITTELSACHSEN,
        _I,
    ),
    _idea(
        "Entlastung bei Strompreisen für energieintensive Mittelständler prüfen",
        "Große Konzerne erhalten Entlastungen, kleinere energieintensive Betriebe oft nicht. "
        "Das Land sollte sich im Bund dafür einsetzen, dass auch der Mittelstand profitiert – "
        "gekoppelt an Investitionen in Effizienz.",
        T_ENERGY,
        Region.ERZGEBIRGSKREIS,
        _P,
    ),
    _idea(
        "Gemeinschaftliche Stromspeicher in Gewerbegebieten",
        "Ein großer Batteriespeicher, den mehrere Betriebe eines Gewerbegebiets gemeinsam "
        "betreiben, glättet Lastspitzen und speichert Solarstrom. Es fehlen dafür "
        "Betreibermodelle und eine rechtssichere Abrechnung.",
        T_ENERGY,
        Region.NORDSACHSEN,
        _I,
        3,
    ),
    _idea(
        "Wasserstoff-Tankstellen für den Schwerlastverkehr entlang der A4",
        "Für Lkw mit Brennstoffzelle fehlt in Sachsen fast jede Tankmöglichkeit. Drei bis vier "
        "Tankstellen entlang der A4 zwischen Görlitz und Chemnitz wären ein Anfang und ein "
        "Signal an Logistikunternehmen.",
        T_ENERGY,
        Region.BAUTZEN,
        _I,
    ),
    _idea(
        "Elektrolyseur-Fertigung in Sachsen ansiedeln und Zulieferkette aufbauen",
        "Sachsen hat Kompetenz in Anlagenbau, Oberflächentechnik und Steuerungen. Damit "
        "könnten hier Elektrolyseure gebaut werden. Ein Zulieferforum würde Betriebe "
        "zusammenbringen, die einzelne Komponenten liefern können.",
        T_ENERGY,
        Region.CHEMNITZ,
        _S,
    ),
    _idea(
        "Direktlieferverträge zwischen Windparks und Industriebetrieben erleichtern",
        "Betriebe möchten Grünstrom direkt von Wind- und Solarparks in der Region kaufen. "
        "Musterverträge, eine Beratungsstelle und mehr ausgewiesene Flächen für Windenergie "
        "würden diese Partnerschaften erleichtern.",
        T_ENERGY,
        Region.SAECHSISCHE_SCHWEIZ,
        _P,
    ),
    _idea(
        "Einheitliches, kostenloses Werkzeug für die CO2-Bilanz kleiner Betriebe",
        "Kunden verlangen immer öfter CO2-Daten, kleine Betriebe haben dafür keine Fachleute. "
        "Ein kostenloses Onlinewerkzeug mit sächsischen Standardwerten würde die Erstellung "
        "einer einfachen Bilanz in wenigen Stunden ermöglichen.",
        T_ENERGY,
        Region.BRUSSELS,
        _O,
    ),
    # --- Transfer & Innovation ------------------------------------------------------------------
    _idea(
        "Technologie- und Gründerzentren in Mittelstädten ausbauen",
        "Gründerinnen und Gründer mit technischen Ideen brauchen Werkstätten, Labore und "
        "Beratung – nicht nur in den drei Großstädten. Technologie- und Gründerzentren in "
        "Mittelstädten wie Freiberg, Plauen oder Bautzen sollten gezielt gestärkt werden.",
        T_TRANSFER,
        Region.VOGTLANDKREIS,
        _A,
        0,
    ),
    _idea(
        "Mehr Gründerzentren außerhalb von Dresden, Leipzig und Chemnitz",
        "Wer auf dem Land ein technisches Start-up gründen will, findet kaum bezahlbare Räume "
        "mit Werkstatt. Vorschlag: leerstehende Industriegebäude zu Gründerzentren umbauen und "
        "mit einer Gründungsberatung der Hochschulen verbinden.",
        T_TRANSFER,
        Region.GOERLITZ,
        _C,
    ),
    _idea(
        "Transferscouts der Hochschulen regelmäßig in die Betriebe schicken",
        "Transfer funktioniert über Menschen. Scouts der Hochschulen sollten jedes Jahr eine "
        "feste Zahl von Betrieben in ihrer Region besuchen, Fragen aufnehmen und passende "
        "Forschungsgruppen vermitteln.",
        T_TRANSFER,
        Region.MITTELSACHSEN,
        _S,
    ),
    _idea(
        "Forschungsförderung für kleine Betriebe mit deutlich weniger Bürokratie",
        "Anträge für Forschungsprojekte sind für kleine Betriebe zu aufwendig. Eine "
        "Pauschalförderung mit kurzem Antrag und nachträglicher Stichprobenprüfung würde viel "
        "mehr Betriebe zum Forschen bringen.",
        T_TRANSFER,
        Region.ZWICKAU,
        _I,
    ),
    _idea(
        "Reallabore für neue Fertigungstechnologien rechtlich absichern",
        "Neue Technologien scheitern oft an Vorschriften, die für sie nicht gemacht sind. "
        "Reallabore mit befristeten Ausnahmen, wissenschaftlicher Begleitung und klaren "
        "Sicherheitsauflagen würden das Ausprobieren unter realen Bedingungen ermöglichen.",
        T_TRANSFER,
        Region.BERLIN,
        _A,
    ),
    _idea(
        "Patente der Hochschulen für Ausgründungen günstiger lizenzieren",
        "Ausgründungen scheitern manchmal an teuren Lizenzverhandlungen mit der eigenen "
        "Hochschule. Standardverträge mit geringen Anfangsgebühren und späterer Beteiligung am "
        "Erfolg würden den Start erleichtern.",
        T_TRANSFER,
        Region.DRESDEN,
        _S,
    ),
    _idea(
        "Chipdesign-Zentrum für Anwendungen aus dem sächsischen Mittelstand",
        "Sachsen fertigt viele Chips, entwirft aber wenige eigene. Ein Designzentrum könnte "
        "Mittelständlern helfen, spezielle Chips für ihre Produkte zu entwickeln.\n\n"
        "- Zugang zu Entwurfswerkzeugen\n"
        "- kleine Testserien über Multi-Projekt-Wafer\n"
        "- Ausbildung von Chipdesignerinnen und -designern",
        T_TRANSFER,
        Region.DRESDEN,
        _I,
        0,
    ),
    _idea(
        "Pilotlinien der Forschungsinstitute für Unternehmen öffnen",
        "Forschungsinstitute haben Pilotanlagen, die oft nicht ausgelastet sind. Betriebe "
        "sollten sie zu transparenten Preisen für Versuchsserien buchen können. Ein "
        "gemeinsamer Buchungskalender würde freie Kapazitäten sichtbar machen.",
        T_TRANSFER,
        Region.CHEMNITZ,
        _S,
    ),
    _idea(
        "Wagniskapitalfonds des Landes für Deep-Tech-Ausgründungen aufstocken",
        "Technologie-Ausgründungen brauchen viel Kapital und lange Zeit bis zum Markt. Der "
        "Landesfonds sollte größere Folgefinanzierungen ermöglichen, damit erfolgreiche "
        "Start-ups nicht abwandern, sobald sie wachsen.",
        T_TRANSFER,
        Region.LEIPZIG,
        _O,
    ),
    _idea(
        "Grenzüberschreitende Innovationspartnerschaften mit Tschechien und Polen",
        "Betriebe im Grenzraum kennen ihre Nachbarn jenseits der Grenze oft kaum. Gemeinsame "
        "Besuche in Forschungseinrichtungen, Dolmetscherkosten und kleine Kooperationsprojekte "
        "sollten gefördert werden.",
        T_TRANSFER,
        Region.GOERLITZ,
        _P,
    ),
    _idea(
        "Antragslotsen für europäische Förderprogramme in Brüssel",
        "Für europäische Forschungs- und Industrieprogramme fehlt kleinen Betrieben das "
        "Wissen über Fristen und Konsortien. Lotsen im Verbindungsbüro in Brüssel könnten "
        "sächsische Partner früh in Konsortien vermitteln.",
        T_TRANSFER,
        Region.BRUSSELS,
        _A,
    ),
    _idea(
        "Innovationspreis für Kooperationen zwischen Handwerk und Wissenschaft",
        "Das Handwerk ist bei Transferprojekten unterrepräsentiert. Ein jährlicher Preis für "
        "die beste Kooperation zwischen Handwerksbetrieb und Hochschule würde gute Beispiele "
        "bekannt machen.",
        T_TRANSFER,
        Region.MEISSEN,
        _P,
    ),
    # --- Additive Fertigung ---------------------------------------------------------------------
    _idea(
        "3D-Druck-Labor an jeder beruflichen Schule mit Metallausbildung",
        "Auszubildende in Metallberufen sollten additive Fertigung nicht nur aus dem Lehrbuch "
        "kennen. Jede berufliche Schule mit Metallausbildung braucht ein kleines Labor mit "
        "Kunststoff- und mindestens Zugang zu einem Metalldrucker.",
        T_AM,
        Region.CHEMNITZ,
        _A,
        1,
    ),
    _idea(
        "Additive Fertigung fest in den Berufsschulunterricht bringen",
        "3D-Druck gehört in die Lehrpläne der Industrie- und Zerspanungsmechanik. Dafür "
        "brauchen Berufsschulen Geräte, Fortbildungen für Lehrkräfte und Kooperationen mit "
        "Betrieben, die die Technik schon nutzen.",
        T_AM,
        Region.ZWICKAU,
        _P,
    ),
    _idea(
        "Digitales Ersatzteillager: Ersatzteile bei Bedarf drucken statt lagern",
        "Viele Betriebe lagern Ersatzteile für alte Maschinen jahrzehntelang. Stattdessen "
        "könnten geprüfte 3D-Modelle in einem digitalen Lager liegen und bei Bedarf gedruckt "
        "werden. Das spart Lagerfläche und verkürzt Stillstandzeiten.",
        T_AM,
        Region.MITTELSACHSEN,
        _I,
        1,
    ),
    _idea(
        "Ersatzteile auf Abruf im 3D-Druck statt teurer Lagerhaltung",
        "Für ältere Anlagen gibt es oft keine Ersatzteile mehr. Ein regionales Netzwerk von "
        "Dienstleistern könnte Teile einscannen, digital ablegen und auf Abruf drucken – "
        "inklusive Qualitätsnachweis.",
        T_AM,
        Region.ERZGEBIRGSKREIS,
        _I,
    ),
    _idea(
        "Prüf- und Zertifizierungsstelle für additiv gefertigte Bauteile in Sachsen",
        "Ohne Zertifizierung kommen gedruckte Bauteile nicht in Flugzeuge, Bahnen oder "
        "Medizinprodukte. Eine sächsische Prüfstelle mit Werkstoffprüfung und Normungsarbeit "
        "würde Betrieben den Weg in die Serie öffnen.",
        T_AM,
        Region.DRESDEN,
        _S,
        1,
    ),
    _idea(
        "Gemeinsam genutzte Metall-3D-Drucker in einem Anwenderzentrum Chemnitz",
        "Ein Metalldrucker kostet schnell eine halbe Million Euro. In einem Anwenderzentrum "
        "könnten mehrere Betriebe Maschinen gemeinsam nutzen, mit fachkundigem Personal und "
        "fairen Stundenpreisen.",
        T_AM,
        Region.CHEMNITZ,
        _I,
        1,
    ),
    _idea(
        "Offene Materialdatenbank für Pulver und Filamente im 3D-Druck",
        "Jeder Betrieb testet dieselben Werkstoffe von vorn. Eine offene Datenbank mit "
        "Prüfergebnissen zu Pulvern, Filamenten und Prozessparametern würde Entwicklungszeit "
        "und Kosten sparen.",
        T_AM,
        Region.LEIPZIG,
        _S,
    ),
    _idea(
        "3D-Druck im Bauwesen: Pilotprojekte bei öffentlichen Gebäuden",
        "Das Land könnte ein kleines öffentliches Gebäude, etwa ein Wartehäuschen oder einen "
        "Bauhof, im 3D-Betondruck errichten lassen. So sammeln Bauverwaltung und regionale "
        "Baufirmen Erfahrungen mit der Technik.",
        T_AM,
        Region.NORDSACHSEN,
        _A,
    ),
    _idea(
        "Recycling von Metallpulver aus der additiven Fertigung erforschen",
        "Nicht verdrucktes Metallpulver wird oft entsorgt oder nur wenige Male wiederverwendet. "
        "Ein Forschungsprojekt sollte klären, wie Pulver aufbereitet und sicher mehrfach "
        "genutzt werden kann.",
        T_AM,
        Region.MITTELSACHSEN,
        _S,
    ),
    _idea(
        "Weiterbildung „Konstruieren für den 3D-Druck“ für Ingenieurbüros",
        "Die Stärken des 3D-Drucks zeigen sich erst, wenn Bauteile dafür konstruiert werden. "
        "Kurze, praxisnahe Kurse für Konstrukteurinnen und Konstrukteure aus Ingenieurbüros "
        "und Betrieben sollten gefördert werden.",
        T_AM,
        Region.BAUTZEN,
        _O,
        1,
    ),
    _idea(
        "Zulassungsberatung für Implantate und Medizinprodukte aus dem 3D-Drucker bündeln",
        "Sachsen hat starke Medizintechnikfirmen, die individuelle Implantate drucken könnten. "
        "Die Zulassung nach der Medizinprodukteverordnung ist aber kompliziert. Eine gemeinsame "
        "Beratungsstelle würde Doppelarbeit vermeiden.",
        T_AM,
        Region.DRESDEN,
        _I,
    ),
    _idea(
        "Hybride Fertigung: CNC-Bearbeitung und 3D-Druck in einer Anlage kombinieren",
        "Gedruckte Rohlinge müssen fast immer nachbearbeitet werden. Ein Verbundprojekt von "
        "Werkzeugmaschinenbauern und Forschung sollte hybride Anlagen entwickeln, die beides "
        "in einer Aufspannung können.",
        T_AM,
        Region.CHEMNITZ,
        _S,
    ),
    # --- Kreislaufwirtschaft --------------------------------------------------------------------
    _idea(
        "Sekundärrohstoff-Börse für Industrieabfälle in Sachsen",
        "Was in einem Betrieb Abfall ist, ist im nächsten Rohstoff. Eine Onlinebörse, auf der "
        "Betriebe Reststoffe, Verschnitt und Altmaterialien anbieten, würde Entsorgungskosten "
        "senken und Rohstoffe sparen.",
        T_CIRCULAR,
        Region.LANDKREIS_LEIPZIG,
        _I,
    ),
    _idea(
        "Batterierecycling-Cluster an den Standorten der Fahrzeugindustrie",
        "Mit der Elektromobilität kommen bald viele Altbatterien. Sachsen sollte Recycling, "
        "Zweitnutzung als Speicher und Rückgewinnung der Rohstoffe dort ansiedeln, wo die "
        "Fahrzeuge gebaut werden.",
        T_CIRCULAR,
        Region.ZWICKAU,
        _I,
    ),
    _idea(
        "Kreislauffähiges Konstruieren in der Ingenieurausbildung verankern",
        "Ob ein Produkt repariert und recycelt werden kann, entscheidet sich bei der "
        "Konstruktion. Hochschulen sollten kreislauffähiges Design zum Pflichtbestandteil "
        "technischer Studiengänge machen.",
        T_CIRCULAR,
        Region.DRESDEN,
        _S,
    ),
    _idea(
        "Öffentliche Beschaffung: Recyclinganteil in Ausschreibungen belohnen",
        "Land und Kommunen kaufen jedes Jahr für viel Geld ein. Wenn Recyclinganteil und "
        "Reparierbarkeit in Ausschreibungen Punkte bringen, entsteht ein verlässlicher Markt "
        "für kreislauffähige Produkte.",
        T_CIRCULAR,
        Region.BERLIN,
        _C,
    ),
    _idea(
        "Rückgewinnung von Technologiemetallen aus Elektronikschrott erforschen",
        "In Freiberg gibt es jahrhundertelange Erfahrung mit Metallen. Diese Kompetenz sollte "
        "genutzt werden, um Gallium, Indium und Seltene Erden wirtschaftlich aus Elektronikschrott "
        "zurückzugewinnen.",
        T_CIRCULAR,
        Region.MITTELSACHSEN,
        _S,
    ),
    _idea(
        "Industrie-Symbiose: Reststoffe eines Betriebs als Rohstoff für den Nachbarn",
        "In Industrieparks könnten Betriebe Wärme, Wasser, Gase und Nebenprodukte untereinander "
        "austauschen. Ein Parkmanagement, das solche Verbindungen plant, sollte in der "
        "Anfangsphase gefördert werden.",
        T_CIRCULAR,
        Region.NORDSACHSEN,
        _A,
    ),
    _idea(
        "Mehrweg-Transportverpackungen zwischen Zulieferern und Herstellern standardisieren",
        "Zulieferer müssen für jeden Kunden andere Behälter und Verpackungen nutzen. "
        "Einheitliche Mehrwegsysteme würden Müll und Kosten sparen:\n\n"
        "- gemeinsamer Behälterpool\n"
        "- digitale Verfolgung per Code\n"
        "- Reinigung in regionalen Dienstleistungszentren",
        T_CIRCULAR,
        Region.ZWICKAU,
        _P,
    ),
    _idea(
        "Textilrecycling: die Industrietradition im Vogtland neu beleben",
        "Das Vogtland hat eine lange Textiltradition und noch viel Wissen in Betrieben und "
        "Forschung. Faser-zu-Faser-Recycling von Alttextilien könnte hier zu einem neuen "
        "Industriezweig werden.",
        T_CIRCULAR,
        Region.VOGTLANDKREIS,
        _C,
    ),
    _idea(
        "Reparierbarkeit von Maschinen und Anlagen als Förderkriterium",
        "Bei geförderten Investitionen sollte es Zusatzpunkte geben, wenn Anlagen modular, "
        "reparierbar und mit verfügbaren Ersatzteilen geplant werden. Das verlängert die "
        "Nutzungsdauer und schont Ressourcen.",
        T_CIRCULAR,
        Region.ERZGEBIRGSKREIS,
        _O,
    ),
    _idea(
        "Mehr Recyclingbeton und Sekundärbaustoffe bei Landesbauten",
        "Bauschutt macht den größten Teil des Abfalls aus. Das Land sollte bei eigenen "
        "Bauvorhaben einen Mindestanteil an Recyclingbeton vorgeben und damit die regionalen "
        "Aufbereitungsanlagen auslasten.",
        T_CIRCULAR,
        Region.SAECHSISCHE_SCHWEIZ,
        _A,
    ),
    # --- Mobilität & Logistik -------------------------------------------------------------------
    _idea(
        "Güter auf die Schiene: Gleisanschlüsse in Gewerbegebieten reaktivieren",
        "Viele alte Gleisanschlüsse liegen still oder wurden zurückgebaut. Ein Förderprogramm "
        "für die Reaktivierung, verbunden mit kleinen Umschlagplätzen, würde Lkw-Verkehr "
        "von den Straßen holen.",
        T_MOBILITY,
        Region.MEISSEN,
        _A,
    ),
    _idea(
        "Werksbusse und Pendlerlinien zu ländlichen Industriestandorten",
        "Viele Schichtarbeitende haben keine Busverbindung zu ihrem Betrieb. Gemeinsam von "
        "Betrieben und Verkehrsverbünden finanzierte Pendlerlinien, abgestimmt auf die "
        "Schichtzeiten, würden Fachkräfte ohne Auto erreichen.",
        T_MOBILITY,
        Region.ERZGEBIRGSKREIS,
        _P,
        2,
    ),
    _idea(
        "Digitale Plattform zur Bündelung von Transporten kleiner Betriebe",
        "Kleine Betriebe verschicken oft halbleere Lkw. Eine regionale Plattform, die "
        "Sendungen mehrerer Betriebe bündelt, würde Kosten und Emissionen senken.",
        T_MOBILITY,
        Region.CHEMNITZ,
        _I,
    ),
    _idea(
        "Ladeinfrastruktur für Elektro-Lkw an den Logistikzentren um Leipzig",
        "Rund um den Flughafen Leipzig/Halle entstehen große Logistikzentren. Schnellladepunkte "
        "für Elektro-Lkw und ausreichende Netzanschlüsse müssen jetzt mitgeplant werden.",
        T_MOBILITY,
        Region.NORDSACHSEN,
        _I,
    ),
    _idea(
        "Bessere Zugverbindungen nach Tschechien und Polen für Pendlerinnen und Pendler",
        "Viele Fachkräfte aus Tschechien und Polen pendeln nach Sachsen. Schnellere und "
        "häufigere Züge, etwa zwischen Dresden und Ústí oder Görlitz und Wrocław, würden den "
        "gemeinsamen Arbeitsmarkt stärken.",
        T_MOBILITY,
        Region.GOERLITZ,
        _C,
        3,
    ),
    _idea(
        "Autonome Shuttlebusse im Werksverkehr großer Industrieareale erproben",
        "Auf großen Werksgeländen und in Industrieparks könnten autonome Shuttles Beschäftigte "
        "vom Bahnhof zum Arbeitsplatz bringen. Dort sind die Bedingungen übersichtlich genug "
        "für einen Testbetrieb.",
        T_MOBILITY,
        Region.DRESDEN,
        _S,
    ),
    _idea(
        "Binnenhafen an der Elbe als trimodales Logistikdrehkreuz stärken",
        "Die sächsischen Elbhäfen verbinden Schiff, Bahn und Lkw. Mit modernen Kränen, "
        "Wasserstoff-Rangierloks und besseren Anschlüssen könnten sie mehr Schwerlast- und "
        "Containerverkehr übernehmen.",
        T_MOBILITY,
        Region.MEISSEN,
        _O,
    ),
    _idea(
        "Lastenrad-Logistik für die letzte Meile in den Innenstädten fördern",
        "Für Handwerksbetriebe und Lieferdienste sind E-Lastenräder in engen Innenstädten oft "
        "schneller als Transporter. Mikro-Depots am Stadtrand und Kaufprämien würden den "
        "Umstieg erleichtern.",
        T_MOBILITY,
        Region.LEIPZIG,
        _C,
    ),
    _idea(
        "Deutschlandticket als Jobticket für Auszubildende vollständig bezuschussen",
        "Für Auszubildende ist der Weg zum Betrieb oft teuer. Wenn Land und Betriebe das "
        "Deutschlandticket gemeinsam vollständig übernehmen, wird eine Ausbildung auch weiter "
        "weg vom Wohnort möglich.",
        T_MOBILITY,
        Region.BAUTZEN,
        _P,
        2,
    ),
    _idea(
        "Drohnentransport dringender Ersatzteile zwischen Werken testen",
        "Wenn eine Anlage stillsteht, zählt jede Stunde. Ein Testfeld für Drohnen, die kleine "
        "Ersatzteile zwischen Werken und Lagern transportieren, könnte zeigen, ob sich das "
        "wirtschaftlich lohnt.",
        T_MOBILITY,
        Region.ELSEWHERE,
        _S,
    ),
]

# Pairs of near-duplicate ideas (by title); moderators are expected to merge them.
DUPLICATE_PAIRS: list[tuple[str, str]] = [
    (
        "KI-Gutscheine für den Einstieg kleiner Industriebetriebe",
        "Innovationsgutscheine für erste KI-Projekte im Mittelstand",
    ),
    (
        "Landesweite Praktikumsbörse für Industrieberufe mit Fahrtkostenzuschuss",
        "Praktikumsportal: Jugendliche in sächsische Industriebetriebe bringen",
    ),
    (
        "Ausbildungsverbund Mikroelektronik für kleine und mittlere Betriebe",
        "Gemeinsame Ausbildung von Halbleiter-Fachkräften über Betriebsgrenzen hinweg",
    ),
    (
        "Genehmigung von Photovoltaik auf Industriedächern beschleunigen",
        "Solardächer auf Gewerbehallen: Genehmigungsverfahren vereinfachen und digitalisieren",
    ),
    (
        "Wasserstoff-Anschlussleitungen für die Industrieparks der Lausitz",
        "Lausitzer Gewerbegebiete an das Wasserstoff-Kernnetz anbinden",
    ),
    (
        "Technologie- und Gründerzentren in Mittelstädten ausbauen",
        "Mehr Gründerzentren außerhalb von Dresden, Leipzig und Chemnitz",
    ),
    (
        "3D-Druck-Labor an jeder beruflichen Schule mit Metallausbildung",
        "Additive Fertigung fest in den Berufsschulunterricht bringen",
    ),
    (
        "Digitales Ersatzteillager: Ersatzteile bei Bedarf drucken statt lagern",
        "Ersatzteile auf Abruf im 3D-Druck statt teurer Lagerhaltung",
    ),
]

# Details of the two open reports in the demo (see seed.py).
DEMO_REPORTS: list[str] = [
    "Das gibt es doch schon fast wortgleich weiter oben in der Liste.",
    "Klingt für mich nach Werbung für ein bestimmtes Unternehmen – bitte prüfen.",
]

ORGANISATIONS: dict[Sector, list[str]] = {
    Sector.INDUSTRY: [
        "Muster Präzisionsteile GmbH",
        "Erzgebirgische Drehteile Schubert & Söhne KG",
        "Elbtal Anlagenbau GmbH",
        "Vogtland Textiltechnik AG",
        "Lausitzer Stahlbau Krüger GmbH",
        "Saxonia Sensorik GmbH",
        "Mulde Kunststofftechnik GmbH",
        "Westsachsen Automotive Components GmbH",
        "Silizium Valley Packaging GmbH (fiktiv)",
        "Additiv Werk Chemnitz GmbH",
    ],
    Sector.SCIENCE: [
        "Westsächsische Hochschule für Technik (fiktiv)",
        "Technische Universität Elbflorenz (fiktiv)",
        "Institut für Fertigungstechnik Erzgebirge (fiktiv)",
        "Forschungszentrum Werkstoffe Freiberg (fiktiv)",
        "Hochschule Oberlausitz für Angewandte Wissenschaften (fiktiv)",
        "Leipziger Institut für Logistik und Datenwirtschaft (fiktiv)",
        "Zentrum für Mikrosysteme Sachsen (fiktiv)",
        "Institut für Energie- und Wasserstofftechnik (fiktiv)",
    ],
    Sector.ADMINISTRATION: [
        "Landratsamt Musterkreis (fiktiv)",
        "Wirtschaftsförderung Oberes Elbtal (fiktiv)",
        "Stadtverwaltung Musterstadt, Amt für Wirtschaft",
        "Regionaler Planungsverband Westsachsen (fiktiv)",
        "Landesamt für Innovation und Transfer (fiktiv)",
        "Zweckverband Industriepark Nordsachsen (fiktiv)",
        "Energieagentur Mittelsachsen (fiktiv)",
    ],
    Sector.SOCIAL_PARTNERS: [
        "Industrie- und Handelskammer Muldental (fiktiv)",
        "Handwerkskammer Erzgebirge-Vogtland (fiktiv)",
        "Gewerkschaft Metall & Elektro Sachsen (fiktiv)",
        "Arbeitgeberverband Sächsischer Maschinenbau (fiktiv)",
        "Gewerkschaft Chemie, Energie, Bergbau Ost (fiktiv)",
        "Verband der Zulieferindustrie Sachsen (fiktiv)",
        "Unternehmerinnen-Netzwerk Mitteldeutschland (fiktiv)",
    ],
    Sector.CIVIL_SOCIETY: [
        "Bürgerenergie Sachsen e. V. (fiktiv)",
        "Verein Jugend & Technik Oberlausitz e. V.",
        "Initiative Kreislaufstadt Leipzig e. V.",
        "Frauen in MINT Sachsen e. V. (fiktiv)",
        "Repair-Café-Netzwerk Dresden e. V. (fiktiv)",
        "Umweltforum Erzgebirge e. V. (fiktiv)",
        "Bündnis Pendeln ohne Grenzen e. V.",
    ],
    Sector.OTHER: [
        "Ingenieurbüro Hoffmann & Partner",
        "Freiberufliche Beraterin für Digitalisierung",
        "Kanzlei für Technologierecht Weber (fiktiv)",
        "Stiftung Industriekultur Sachsen (fiktiv)",
        "Medienbüro Elbe-Spree",
        "Unternehmensberatung Transformation Ost GmbH",
    ],
}

FIRST_NAMES: list[str] = [
    "Anna",
    "Andreas",
    "Birgit",
    "Christian",
    "Claudia",
    "Daniel",
    "Doreen",
    "Emil",
    "Franziska",
    "Frank",
    "Hannah",
    "Heiko",
    "Ines",
    "Jan",
    "Jana",
    "Jens",
    "Julia",
    "Jörg",
    "Katrin",
    "Klaus",
    "Lena",
    "Lukas",
    "Maria",
    "Markus",
    "Marie",
    "Matthias",
    "Nadine",
    "Nico",
    "Paula",
    "Peter",
    "Petra",
    "Ralf",
    "Sabine",
    "Sebastian",
    "Silke",
    "Stefan",
    "Susanne",
    "Thomas",
    "Tim",
    "Ulrike",
    "Uwe",
    "Yvonne",
    "Sören",
    "Grit",
    "Mandy",
    "Tobias",
]

LAST_NAMES: list[str] = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Lehmann",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Günther",
    "Fuchs",
    "Vogel",
    "Friedrich",
    "Seidel",
    "Thiele",
    "Kühn",
    "Winkler",
    "Böhme",
    "Pohl",
    "Ulbricht",
    "Schubert",
]

COMMENTS: list[str] = [
    "Gute Idee! In unserem Betrieb hätten wir genau das vor zwei Jahren gebraucht.",
    "Das unterstütze ich. Wichtig wäre, dass die Antragsstellung wirklich einfach bleibt.",
    "Wer soll das dauerhaft finanzieren, wenn die Förderung ausläuft?",
    "Bitte auch an die ländlichen Regionen denken, nicht nur an Dresden und Leipzig.",
    "Ähnliche Angebote gibt es schon – vielleicht sollte man die bestehenden erst bekannter "
    "machen.",
    "Wir wären als Pilotbetrieb dabei, falls das umgesetzt wird.",
    "Der Vorschlag ist gut, aber die Zielgruppe sollte genauer beschrieben werden.",
    "Aus Sicht der Beschäftigten ist es entscheidend, dass Weiterbildung in der Arbeitszeit "
    "stattfinden kann.",
    "Die Kammern könnten hier eine koordinierende Rolle übernehmen.",
    "Ich bin skeptisch: Solche Programme landen oft bei den Betrieben, die ohnehin schon "
    "gut aufgestellt sind.",
    "Ein konkreter Zeitplan mit Meilensteinen würde die Idee überzeugender machen.",
    "Das passt gut zur Idee mit dem Anwenderzentrum – vielleicht lassen sich beide verbinden.",
    "In Tschechien gibt es ein vergleichbares Modell, das gut funktioniert. Ein Blick dorthin "
    "lohnt sich.",
    "Wichtig ist, dass die Daten der Betriebe geschützt bleiben.",
    "Hier sollte man unbedingt die Berufsschulen mit ins Boot holen.",
    "Klingt teuer. Gibt es eine grobe Schätzung der Kosten?",
    "Sehr sinnvoll, gerade für kleine Zulieferer, die keine eigene Entwicklungsabteilung haben.",
    "Ohne schnelleres Internet in den Gewerbegebieten wird das leider nicht funktionieren.",
    "Ich würde das auf zwei Landkreise begrenzen und erst einmal als Pilot testen.",
    "Das ist eher Aufgabe des Bundes als des Freistaates.",
    "Unsere Hochschule hat dazu schon Vorarbeiten – gern Kontakt aufnehmen.",
    "Bitte auch die Folgen für die Umwelt mitdenken, nicht nur die Kosten.",
    "Die Idee ist gut, aber die Genehmigungsbehörden brauchen dafür auch mehr Personal.",
    "Das sollte mit den Nachbarländern abgestimmt werden, sonst entstehen Insellösungen.",
    "Für Frauen und Quereinsteigende wäre das ein wichtiges Signal.",
    "Wir haben das im Betrieb ausprobiert: Es funktioniert, braucht aber einen langen Atem.",
    "Zu allgemein formuliert. Was genau soll das Land tun?",
    "Unbedingt unterstützen! Der Fachkräftemangel ist bei uns das größte Problem.",
    "Gute Ergänzung wäre eine Beratung speziell für Handwerksbetriebe.",
    "Das Thema Wasserstoff wird überschätzt – erst einmal sollten wir Strom effizienter nutzen.",
    "Bei uns in der Lausitz würde das einen echten Unterschied machen.",
    "Wichtig ist eine unabhängige Evaluation nach zwei oder drei Jahren.",
    "Ich sehe hier eine Überschneidung mit dem Vorschlag zur Praktikumsbörse.",
    "Die Sozialpartner sollten von Anfang an beteiligt werden.",
    "Was passiert mit den Ergebnissen, wenn das Projekt beendet ist?",
    "Wir brauchen weniger neue Programme und mehr Verlässlichkeit bei den bestehenden.",
    "Als Auszubildender kann ich das nur bestätigen – die Anfahrt ist oft das größte Hindernis.",
    "Sehr konkret und gut umsetzbar. Mehr solche Vorschläge bitte!",
    "Eine offene Schnittstelle wäre wichtig, damit keine neuen Abhängigkeiten entstehen.",
    "Die Idee hat Potenzial, sollte aber mit der Kreislaufwirtschaft zusammengedacht werden.",
    "Das Thema wurde im Workshop in Chemnitz ausführlich diskutiert – viel Zustimmung.",
    "Ich befürchte, dass der bürokratische Aufwand am Ende den Nutzen auffrisst.",
    "Gute Idee, aber bitte barrierefrei und auch auf Englisch anbieten.",
    "Bei der Umsetzung sollte man die Kommunen finanziell nicht allein lassen.",
]

# Why the moderation nominates the most supported ideas for the shortlist (demo).
DEMO_NOMINATION_RATIONALES = [
    "Breite Unterstützung aus Industrie, Wissenschaft und Verwaltung.",
    "Schnell umsetzbar mit vorhandenen Förderinstrumenten; mehrere Kammern haben Mitwirkung "
    "angeboten.",
    "In mehreren Workshops unabhängig voneinander vorgeschlagen.",
    "Konkretes Pilotprojekt mit klarer Zuständigkeit; Kosten und Nutzen gut abschätzbar.",
    "Hohe Zustimmung der Sozialpartner und der Zivilgesellschaft.",
    "Passt zu den Zielen der Industriestrategie und ergänzt laufende Landesprogramme.",
    "Viele Kommentare mit konkreten Angeboten zur Mitwirkung aus Unternehmen und Hochschulen.",
    "Stärkt kleine und mittlere Unternehmen in den ländlichen Regionen.",
]


# --- the earlier cycle: decided, handed over, measures under way (all invented) -------------------
EARLIER_PROCESS: dict[str, str] = {
    "slug": "industriedialog-2025",
    "title": "Industriedialog Sachsen 2025 (erster Zyklus)",
    "description": (
        "Der erste Zyklus des Agendaprozesses (fiktiv): Ideen gesammelt, abgestimmt und dem "
        "Ministerium übergeben. Was daraus wurde, steht auf der Seite **Umsetzung**; offene "
        "Maßnahmen und Ideen führt der Prozess *Industrie der Zukunft* fort."
    ),
}

# Recommendations of the earlier cycle: the ministry's answer and the measure it became.
EARLIER_RECOMMENDATIONS: list[dict[str, Any]] = [
    {
        "title": "Transferlotsen für kleine Unternehmen",
        "body": "Feste Ansprechpersonen in jedem Landkreis, die kleine Betriebe mit passenden "
        "Lehrstühlen und Forschungsinstituten zusammenbringen – ohne Antragsprosa.",
        "sector": "industry",
        "region": "zwickau",
        "votes": 48,
        "accept": True,
        "comment": "Wird umgesetzt; Start in drei Landkreisen.",
        "measure": {
            "title": "Transferlotsen in allen Landkreisen",
            "unit": "Referat 32 – Technologietransfer",
            "description": "Zwölf Transferlotsinnen und -lotsen bei den Kammern, finanziert "
            "aus Landesmitteln. Sie besuchen Betriebe und vermitteln in die Forschung.",
            "starts_on": -200,
            "target_on": 400,
            "updates": [
                (-170, "10", "Die **Ausschreibung** der Stellen ist veröffentlicht."),
                (
                    -60,
                    "40",
                    "Sechs Lotsinnen und Lotsen haben begonnen, zuerst in Chemnitz, Zwickau und "
                    "Görlitz. Bisher 85 Betriebsbesuche.",
                ),
            ],
        },
    },
    {
        "title": "Weiterbildungsverbund für additive Fertigung",
        "body": "Berufsschulen, Hochschulen und Betriebe teilen sich Drucker, Lehrpläne und "
        "Ausbildende, damit Fachkräfte den 3D-Druck in der Praxis lernen.",
        "sector": "science",
        "region": "chemnitz",
        "votes": 35,
        "accept": True,
        "comment": "Aufgenommen in die Fachkräftestrategie.",
        "measure": {
            "title": "Weiterbildungsverbund Additive Fertigung",
            "unit": "Referat 24 – Fachkräfte und Weiterbildung",
            "description": "Ein Verbund aus drei Berufsschulzentren, zwei Hochschulen und 14 "
            "Betrieben mit gemeinsamen Kursen.",
            "starts_on": -260,
            "target_on": -20,
            "done": "Abschlussbericht liegt vor; der Verbund trägt sich künftig selbst.",
            "updates": [
                (-200, "50", "Die ersten zwei Kurse mit 36 Teilnehmenden sind abgeschlossen."),
                (-25, "100", "Alle sechs Kurse abgeschlossen; **210 Fachkräfte** weitergebildet."),
            ],
        },
    },
    {
        "title": "Energieeffizienz-Netzwerke im Mittelstand",
        "body": "Regionale Netzwerke, in denen sich zehn bis fünfzehn Betriebe über Abwärme, "
        "Druckluft und Lastmanagement austauschen, moderiert von der Energieagentur.",
        "sector": "social_partners",
        "region": "leipzig",
        "votes": 29,
        "accept": True,
        "comment": "Wird mit der nächsten Förderrichtlinie umgesetzt.",
        "measure": {
            "title": "Energieeffizienz-Netzwerke für KMU",
            "unit": "Referat 41 – Energie und Klima",
            "description": "Förderung der Moderation von bis zu acht regionalen Netzwerken.",
            "starts_on": 30,
            "target_on": 730,
            "updates": [
                (-40, "", "Die Förderrichtlinie ist in der Abstimmung mit dem Finanzressort."),
            ],
        },
    },
    {
        "title": "Landesweite Industrie-Cloud",
        "body": "Eine vom Land betriebene Cloud für Produktionsdaten kleiner Unternehmen.",
        "sector": "industry",
        "region": "dresden",
        "votes": 22,
        "accept": False,
        "comment": "Wird bereits über ein Bundesprogramm gefördert; das Land berät dazu.",
    },
]
