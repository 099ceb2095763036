-- A zap's schedule and its next tick; the processors claim due ticks with SKIP LOCKED.
alter table zaps add column schedule jsonb;
alter table zaps add column schedule_next_at timestamptz;
create index zaps_schedule_due_idx on zaps (schedule_next_at) where schedule_next_at is not null;

alter table runs drop constraint runs_replay_cause_check;
alter table runs add constraint runs_replay_cause_check
  check (replay_cause in ('webhook', 'manual', 'bulk', 'auto', 'schedule'));
