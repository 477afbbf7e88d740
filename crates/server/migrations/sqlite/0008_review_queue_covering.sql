-- The review queue at a million reports (issue 14, benchmark). Every queue index now carries the
-- columns a page shows, so a page is read from the index alone: the table rows are not visited
-- (each visit cost a few page reads, decrypted, since a reader's page cache starts empty whenever
-- another connection has written, as every audited read does). And one small partial index per
-- flag filter, so a page of reports with force used (4 % of reports) walks those reports only,
-- not the whole queue in time order looking for them. The console's row columns (call type,
-- dispositions, arrest: 0006) are carried too, and arrest has its filter's index.
DROP INDEX review_queue_oldest;
DROP INDEX review_queue_flagged;
DROP INDEX review_queue_officer;
CREATE INDEX review_queue_oldest ON review_index (state, submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions);
CREATE INDEX review_queue_flagged ON review_index (state, flag_rank, submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, arrest, call_type, dispositions);
CREATE INDEX review_queue_officer ON review_index (state, officer_id, submitted_at, encounter_id,
    version, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions);
CREATE INDEX review_queue_force ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, injury, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND force_used = 1;
CREATE INDEX review_queue_injury ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, weapon, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND injury = 1;
CREATE INDEX review_queue_weapon ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, emergency_detention, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND weapon = 1;
CREATE INDEX review_queue_detention ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, weapon, flag_rank, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND emergency_detention = 1;
CREATE INDEX review_queue_flag ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, arrest, call_type, dispositions)
    WHERE state = 'submitted' AND flag_rank = 0;
CREATE INDEX review_queue_arrest ON review_index (submitted_at, encounter_id,
    version, officer_id, occurred_at, force_used, injury, weapon, emergency_detention, flag_rank, call_type, dispositions)
    WHERE state = 'submitted' AND arrest = 1;
