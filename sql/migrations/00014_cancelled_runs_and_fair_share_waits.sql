-- A deleted or disabled zap's runs that had not finished are cancelled, not left to call their targets.
alter table runs drop constraint runs_status_check;
alter table runs add constraint runs_status_check
  check (status in ('queued', 'running', 'succeeded', 'failed', 'debounced', 'cancelled'));

-- A worker slot freed by a user wakes that user's oldest steps waiting for a fair share.
create index flow_waits_fair_share_idx on flow_waits (since, run_id) where kind = 'fair_share';
