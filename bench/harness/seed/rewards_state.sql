-- The rewards state a seeded history implies (what the service's rewards code keeps),
-- run by rewards_state.derive: each "-- name_s" line starts a timed step, "zone" is the
-- venues' time zone. The points ledger is not back-filled: nothing a check-in reads it.

-- user_venues_s
INSERT INTO user_venues (user_id, venue_id, first_checkin_id, first_at)
SELECT DISTINCT ON (user_id, venue_id) user_id, venue_id, id, created_at
FROM checkins WHERE eligible ORDER BY user_id, venue_id, effective_at, id;

-- venue_visit_days_s
INSERT INTO venue_visit_days (venue_id, user_id, local_day)
SELECT DISTINCT venue_id, user_id, local_day FROM checkins WHERE eligible ORDER BY 1, 2, 3;

-- user_cities_s
INSERT INTO user_cities (user_id, city, first_checkin_id, first_at)
SELECT DISTINCT ON (k.user_id, v.city) k.user_id, v.city, k.id, k.created_at
FROM checkins k JOIN venues v ON v.id = k.venue_id
WHERE k.eligible ORDER BY k.user_id, v.city, k.effective_at, k.id;

-- mayors_s
-- most distinct days in the last 60 (at least 2), ties to the lowest id, the mayorship
-- expiring when the oldest counted day leaves the window, at venue-local midnight
INSERT INTO venue_mayors (venue_id, user_id, days, since, expires_at)
SELECT DISTINCT ON (venue_id) venue_id, user_id, count(*), now() - interval '1 day',
       ((min(local_day) + 60)::timestamp AT TIME ZONE %(zone)s)
FROM venue_visit_days
WHERE local_day > (now() AT TIME ZONE %(zone)s)::date - 60
GROUP BY venue_id, user_id HAVING count(*) >= 2
ORDER BY venue_id, count(*) DESC, user_id;
INSERT INTO mayorship_changes (venue_id, previous_user_id, user_id, days, at)
SELECT venue_id, NULL, user_id, days, since FROM venue_mayors ORDER BY venue_id;

-- badges_s
-- the badges the history already earned, from its aggregates; awarded "a day ago"
WITH stats AS (
    SELECT user_id, count(*) AS n,
           bool_or(extract(hour FROM effective_at AT TIME ZONE %(zone)s) < 5) AS night,
           bool_or(extract(hour FROM effective_at AT TIME ZONE %(zone)s) IN (5, 6)) AS early
    FROM checkins WHERE eligible GROUP BY user_id
), venues_seen AS (
    SELECT user_id, count(*) AS n FROM user_venues GROUP BY user_id
), local AS (
    SELECT DISTINCT user_id FROM (
        SELECT user_id, effective_at - lag(effective_at, 2) OVER (
            PARTITION BY user_id, venue_id ORDER BY effective_at) AS span
        FROM checkins WHERE eligible
    ) s WHERE span < interval '7 days'
), streaks AS (
    SELECT DISTINCT user_id FROM (
        SELECT user_id, local_day - (row_number() OVER (
            PARTITION BY user_id ORDER BY local_day))::int AS island
        FROM (SELECT DISTINCT user_id, local_day FROM venue_visit_days) d
    ) s GROUP BY user_id, island HAVING count(*) >= 7
), earned (user_id, badge, level) AS (
    SELECT user_id, 'newbie', 1 FROM stats
    UNION ALL SELECT user_id, 'regular', level
        FROM stats CROSS JOIN (VALUES (1, 10), (2, 50), (3, 250)) t (level, threshold)
        WHERE n >= threshold
    UNION ALL SELECT user_id, 'night_owl', 1 FROM stats WHERE night
    UNION ALL SELECT user_id, 'early_bird', 1 FROM stats WHERE early
    UNION ALL SELECT user_id, 'explorer', 1 FROM venues_seen WHERE n >= 10
    UNION ALL SELECT user_id, 'superstar', 1 FROM venues_seen WHERE n >= 50
    UNION ALL SELECT user_id, 'local', 1 FROM local
    UNION ALL SELECT user_id, 'streak_7', 1 FROM streaks
    UNION ALL SELECT DISTINCT user_id, 'mayor', 1 FROM venue_mayors
)
INSERT INTO user_badges (user_id, badge, level, awarded_at)
SELECT user_id, badge, level, now() - interval '1 day' FROM earned ORDER BY 1, 2, 3;

-- user_totals_s
UPDATE users u SET checkin_count = s.n, eligible_checkins = s.ok,
       points = s.points + %(mayorship_points)s * coalesce(m.n, 0)
FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE eligible) AS ok,
             sum(points) AS points FROM checkins GROUP BY user_id) s
LEFT JOIN (SELECT user_id, count(*) AS n FROM venue_mayors GROUP BY user_id) m
       ON m.user_id = s.user_id
WHERE u.id = s.user_id;
-- the badge counters (migration 0015) follow user_venues and user_cities
UPDATE users u SET venues_visited = v.n,
       cities_visited = (SELECT count(*) FROM user_cities c WHERE c.user_id = u.id)
FROM (SELECT user_id, count(*) AS n FROM user_venues GROUP BY user_id) v
WHERE u.id = v.user_id;
