-- Flow control: per-zap concurrency and debounce, outgoing rate limits, targets paused by 429.
alter table zaps add column concurrency jsonb;
alter table zaps add column debounce jsonb;

alter table runs drop constraint runs_status_check;
alter table runs add constraint runs_status_check
  check (status in ('queued', 'running', 'succeeded', 'failed', 'debounced'));
-- Rendered when the run is accepted, so the order of arrival decides who runs first.
alter table runs add column concurrency_key text;
alter table runs add column debounce_key text;
alter table runs add column debounced_into uuid references runs (id) on delete set null;
create index runs_concurrency_queue_idx on runs (zap_id, concurrency_key, created_at, id)
  where concurrency_key is not null and status in ('queued', 'running');
create index runs_debounce_open_idx on runs (zap_id, debounce_key, created_at)
  where debounce_key is not null and status = 'queued';

-- A run whose next step cannot start yet; its outbox row is due at `until`.
create table flow_waits (
  run_id uuid primary key references runs (id) on delete cascade,
  kind text not null check (kind in ('concurrency', 'rate_limit', 'paused', 'fair_share')),
  reason text not null,
  zap_id uuid not null,
  concurrency_key text,
  until timestamptz not null,
  since timestamptz not null default now(),
  deferrals integer not null default 1
);
create index flow_waits_concurrency_idx on flow_waits (zap_id, concurrency_key) where kind = 'concurrency';

-- Per rate limit bucket: the last `requests` turns handed out (they spread waiting steps out in
-- time) and the last `requests` requests actually let through (they make the limit exact).
create table target_rate_limits (
  user_id uuid not null references users (id) on delete cascade,
  bucket text not null,
  turns timestamptz[] not null default '{}',
  sent timestamptz[] not null default '{}',
  primary key (user_id, bucket)
);

create table target_pauses (
  user_id uuid not null references users (id) on delete cascade,
  host text not null,
  until timestamptz not null,
  reason text not null,
  primary key (user_id, host)
);

-- Renders {{trigger.body.x}}, {{trigger.headers.x}} and {{trigger.query.x}} references; missing fields are empty.
create function render_flow_key(template text, trigger jsonb) returns text language plpgsql immutable as $$
declare
  rendered text := template;
  reference text[];
begin
  for reference in select regexp_matches(template, '(\{\{\s*trigger\.([^{}\s]+)\s*\}\})', 'g') loop
    rendered := replace(rendered, reference[1], coalesce(trigger #>> string_to_array(reference[2], '.'), ''));
  end loop;
  return left(rendered, 256);
end $$;

-- One more request of a bucket allowing `requests` per `period` (a sliding window): returns null
-- when it may be sent now (and counts it), else the time to ask again. A caller that has no turn
-- yet (`has_turn` false) first takes the next free turn, so waiting requests come back one by one.
create function take_rate_limit(owner uuid, bucket_name text, requests integer, period interval, has_turn boolean)
returns timestamptz language plpgsql as $$
declare
  state target_rate_limits;
  moment timestamptz := clock_timestamp();
  turn timestamptz := moment;
  kept integer;
begin
  insert into target_rate_limits (user_id, bucket) values (owner, bucket_name) on conflict do nothing;
  select * into state from target_rate_limits where user_id = owner and bucket = bucket_name for update;
  if not has_turn then
    kept := coalesce(array_length(state.turns, 1), 0);
    if kept >= requests then
      turn := greatest(moment, state.turns[kept - requests + 1] + period, state.turns[kept]);
    end if;
    update target_rate_limits set turns = (state.turns || turn)[greatest(1, kept + 2 - requests):kept + 1]
    where user_id = owner and bucket = bucket_name;
    if turn > moment then
      return turn;
    end if;
  end if;
  -- Requests leave a few milliseconds after they are counted, and targets count by their own clocks:
  -- the window is kept a little longer than the period (a tenth of it, at most 200 ms).
  kept := coalesce(array_length(state.sent, 1), 0);
  if kept >= requests and state.sent[kept - requests + 1] + period + least(period / 10, interval '200 milliseconds') > moment then
    return state.sent[kept - requests + 1] + period + least(period / 10, interval '200 milliseconds');
  end if;
  update target_rate_limits set sent = (state.sent || moment)[greatest(1, kept + 2 - requests):kept + 1]
  where user_id = owner and bucket = bucket_name;
  return null;
end $$;
