"""Breadth of support across sectors: the ranking formula, pure and testable.

For each sector s with at least `MIN_SECTOR_PARTICIPANTS` participants (people of that sector
who cast at least one vote in the process), an idea's support rate in s is

    r_s = (v_s + 1) / (n_s + 1)

with v_s the idea's supporters from s and n_s the sector's participants; the +1 keeps a sector
without support from sending the product to zero, so that one missing sector lowers an idea
instead of erasing it. The breadth score is the geometric mean of the r_s. An idea supported
evenly by industry, science and administration therefore ranks above one with the same number
of votes from a single sector, and a small sector counts as much as a big one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

MIN_SECTOR_PARTICIPANTS = 5


def counted_sectors(participants: Mapping[str, int]) -> list[str]:
    """The sectors large enough to count, in a fixed order."""
    return sorted(s for s, n in participants.items() if n >= MIN_SECTOR_PARTICIPANTS)


def breadth_score(votes_by_sector: Mapping[str, int], participants: Mapping[str, int]) -> float:
    """Geometric mean of the smoothed per-sector support rates; 0.0 if no sector counts."""
    sectors = counted_sectors(participants)
    if not sectors:
        return 0.0
    log_sum = sum(
        math.log((votes_by_sector.get(s, 0) + 1) / (participants[s] + 1)) for s in sectors
    )
    return math.exp(log_sum / len(sectors))
