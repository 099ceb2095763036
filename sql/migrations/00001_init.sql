create table users (
  id uuid primary key,
  email text not null,
  name text not null,
  password_hash text not null,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));

create table zaps (
  id uuid primary key,
  user_id uuid not null references users (id) on delete cascade,
  name text not null,
  enabled boolean not null default true,
  version integer not null default 1,
  secret text,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index zaps_user_id_idx on zaps (user_id, id desc) where deleted_at is null;

create table zap_versions (
  zap_id uuid not null references zaps (id) on delete cascade,
  version integer not null,
  steps jsonb not null,
  created_at timestamptz not null default now(),
  primary key (zap_id, version)
);

create table runs (
  id uuid primary key,
  zap_id uuid not null references zaps (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  version integer not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  trigger_body jsonb,
  trigger_content_type text,
  trigger_headers jsonb not null default '{}',
  trigger_query jsonb not null default '{}',
  idempotency_key text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  foreign key (zap_id, version) references zap_versions (zap_id, version)
);
create unique index runs_idempotency_key on runs (zap_id, idempotency_key);
create index runs_user_id_idx on runs (user_id, id desc);
create index runs_user_status_idx on runs (user_id, status, id desc);
create index runs_zap_id_idx on runs (zap_id, id desc);

create table run_steps (
  run_id uuid not null references runs (id) on delete cascade,
  index integer not null,
  type text not null,
  status text not null check (status in ('retrying', 'succeeded', 'failed', 'skipped')),
  attempts integer not null default 0,
  input jsonb,
  output jsonb,
  error text,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (run_id, index)
);

create table outbox (
  id bigint generated always as identity primary key,
  run_id uuid not null references runs (id) on delete cascade,
  step_index integer not null,
  attempt integer not null default 1,
  available_at timestamptz not null default now(),
  created_at timestamptz not null default now()
);
create index outbox_available_at_idx on outbox (available_at, id);

create function notify_outbox() returns trigger language plpgsql as $$
begin
  perform pg_notify('zap_outbox', '');
  return null;
end $$;

create trigger outbox_notify after insert on outbox
  for each statement execute function notify_outbox();
