"""The SQL of the exports: one streamed statement for the ideas, composed of constants only."""

from __future__ import annotations

from sqlalchemy import text

# Every published idea of the process (or only the accepted shortlist, for the dossier: then
# the votes are aggregated for those ideas only), accepted shortlist entries first in the
# ministry's order (an idea counts as shortlisted through its own nomination or through its
# theme's), then by votes. Votes by sector and by region are aggregated in the database, so
# that a row costs the app the same memory whatever the number of votes.
IDEA_ROWS = text(
    """
WITH selected AS (
    SELECT i.id FROM ideas i
    LEFT JOIN shortlist_entries ei ON ei.idea_id = i.id
    LEFT JOIN shortlist_entries et ON et.theme_id = i.theme_id
    WHERE i.process_id = :process_id AND i.status = 'published'
      AND (:shortlisted_only = false OR coalesce(ei.decision, et.decision) = 'accepted')
), by_sector AS (
    SELECT idea_id, jsonb_object_agg(sector, n) AS votes FROM (
        SELECT v.idea_id, u.sector, count(*) AS n
        FROM votes v JOIN users u ON u.id = v.user_id
        WHERE v.process_id = :process_id
          AND (:shortlisted_only = false OR v.idea_id IN (SELECT id FROM selected))
        GROUP BY v.idea_id, u.sector
    ) s GROUP BY idea_id
), by_region AS (
    SELECT idea_id, jsonb_object_agg(region, n) AS votes FROM (
        SELECT v.idea_id, u.region, count(*) AS n
        FROM votes v JOIN users u ON u.id = v.user_id
        WHERE v.process_id = :process_id
          AND (:shortlisted_only = false OR v.idea_id IN (SELECT id FROM selected))
        GROUP BY v.idea_id, u.region
    ) r GROUP BY idea_id
)
SELECT
    i.id, i.title, i.body, i.region, i.author_sector, i.vote_count, i.comment_count,
    i.created_at,
    th.id AS theme_id, th.title AS theme_title, tp.name AS topic,
    ev.title AS event_title, ev.place AS event_place, ev.starts_at AS event_starts_at,
    u.display_name AS author_name, u.organisation AS author_organisation,
    u.name_in_exports AS author_consents, u.sector AS author_user_sector,
    u.region AS author_user_region,
    coalesce(ei.position, et.position) AS position,
    coalesce(ei.decision, et.decision) AS decision,
    coalesce(ei.rationale, et.rationale) AS rationale,
    coalesce(ei.decision_comment, et.decision_comment) AS decision_comment,
    (ei.id IS NULL AND et.id IS NOT NULL) AS via_theme,
    coalesce(bs.votes, '{}'::jsonb) AS votes_by_sector,
    coalesce(br.votes, '{}'::jsonb) AS votes_by_region
FROM selected
JOIN ideas i ON i.id = selected.id
LEFT JOIN users u ON u.id = i.author_id
LEFT JOIN themes th ON th.id = i.theme_id
LEFT JOIN topics tp ON tp.id = i.topic_id
LEFT JOIN events ev ON ev.id = i.event_id
LEFT JOIN shortlist_entries ei ON ei.idea_id = i.id
LEFT JOIN shortlist_entries et ON et.theme_id = i.theme_id
LEFT JOIN by_sector bs ON bs.idea_id = i.id
LEFT JOIN by_region br ON br.idea_id = i.id
ORDER BY coalesce(ei.position, et.position) NULLS LAST, i.vote_count DESC, i.id
"""
)

IDEA_COUNT = text(
    """
SELECT count(*) FROM ideas i
LEFT JOIN shortlist_entries ei ON ei.idea_id = i.id
LEFT JOIN shortlist_entries et ON et.theme_id = i.theme_id
WHERE i.process_id = :process_id AND i.status = 'published'
  AND (:shortlisted_only = false OR coalesce(ei.decision, et.decision) = 'accepted')
"""
)

# Merges that stand (not undone), oldest first, with the merged idea and its author.
MERGES = text(
    """
SELECT m.source_id, m.target_id, m.created_at, m.note,
       s.title,
       cardinality(m.moved_vote_user_ids) + cardinality(m.dropped_vote_user_ids) AS votes,
       u.display_name, u.organisation, u.name_in_exports, u.sector, u.region,
       s.author_sector, s.region AS idea_region
FROM merge_records m
JOIN ideas s ON s.id = m.source_id
LEFT JOIN users u ON u.id = s.author_id
WHERE m.process_id = :process_id AND m.undone_at IS NULL
ORDER BY m.created_at, m.id
"""
)

COAUTHORS = text(
    """
SELECT c.idea_id, u.display_name, u.organisation, u.name_in_exports, u.sector, u.region
FROM idea_coauthors c
JOIN users u ON u.id = c.user_id
JOIN ideas i ON i.id = c.idea_id
WHERE i.process_id = :process_id
ORDER BY c.idea_id, u.id
"""
)
