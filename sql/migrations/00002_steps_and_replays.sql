alter table run_steps drop constraint run_steps_status_check;
alter table run_steps add constraint run_steps_status_check
  check (status in ('retrying', 'waiting', 'succeeded', 'failed', 'skipped'));

alter table zaps add column auto_replay boolean not null default false;

-- replay: how many times the run was replayed; messages of an earlier execution are ignored.
alter table runs add column replay integer not null default 0;
alter table runs add column replay_from integer not null default 0;
alter table runs add column replay_cause text not null default 'webhook'
  check (replay_cause in ('webhook', 'manual', 'bulk', 'auto'));
alter table runs add column auto_replays integer not null default 0;
create index runs_user_failed_idx on runs (user_id, created_at) where status = 'failed';

alter table outbox add column replay integer not null default 0;

-- Each earlier execution of a run, archived when it is replayed.
create table run_history (
  run_id uuid not null references runs (id) on delete cascade,
  replay integer not null,
  version integer not null,
  from_step integer not null,
  cause text not null,
  status text not null,
  steps jsonb not null,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (run_id, replay)
);
