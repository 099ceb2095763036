-- How many days a zap's finished runs are kept; null uses RUN_RETENTION_DAYS / FAILED_RUN_RETENTION_DAYS.
alter table zaps add column retention_days integer check (retention_days between 1 and 3650);

-- The prune walks finished runs oldest first; deleting a run sets debounced_into of the runs folded into it.
create index runs_finished_at_idx on runs (finished_at) where finished_at is not null;
create index runs_debounced_into_idx on runs (debounced_into) where debounced_into is not null;
