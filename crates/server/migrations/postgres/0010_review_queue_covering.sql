-- The review queue at a million reports (issue 14, benchmark); see the SQLite migration of the
-- same name. The queue indexes carry the columns a page shows (INCLUDE), so a page is an
-- index-only scan (once vacuumed, as autovacuum does after inserts) instead of a visit to each
-- row of review_index (wide: it holds the narrative's tsvector); and one partial index per flag
-- filter. The console's row columns (call type, dispositions, arrest: 0008) are carried too, and
-- arrest has its filter's index.
DROP INDEX review_queue_oldest;
DROP INDEX review_queue_flagged;
DROP INDEX review_queue_officer;
CREATE INDEX review_queue_oldest ON review_index (state, submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions);
CREATE INDEX review_queue_flagged ON review_index (state, flag_rank, submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, arrest, call_type, dispositions);
CREATE INDEX review_queue_officer ON review_index (state, officer_id, submitted_at, encounter_id)
    INCLUDE (version, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions);
CREATE INDEX review_queue_force ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND force_used;
CREATE INDEX review_queue_injury ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND injury;
CREATE INDEX review_queue_weapon ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND weapon;
CREATE INDEX review_queue_detention ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, weapon, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND emergency_detention;
CREATE INDEX review_queue_flag ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND flag_rank = 0;
CREATE INDEX review_queue_arrest ON review_index (submitted_at, encounter_id)
    INCLUDE (version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, call_type, dispositions)
    WHERE state = 'submitted' AND arrest;
