-- Where a zap's finally failed runs are reported: {"webhook"?: url, "email"?: address}; null reports nothing.
alter table zaps add column on_failure jsonb;

-- The Standard Webhooks secret (whsec_...) that signs a user's failure alerts; shown once when made.
alter table users add column alert_secret text;

-- One row per zap that reported a failure: failures while the zap is throttled are folded into its next alert.
create table failure_alerts (
  zap_id uuid primary key references zaps (id) on delete cascade,
  pending integer not null default 0,
  last_failure jsonb,
  due_at timestamptz,
  last_sent_at timestamptz
);
create index failure_alerts_due_idx on failure_alerts (due_at) where pending > 0;
