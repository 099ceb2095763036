-- How a zap's webhooks are verified: {"scheme": ..., "secrets": [...], ...options} (lib/src/verify.ts);
-- null accepts any request. Today's secret becomes the Standard Webhooks setting it always meant. A
-- secret without whsec_ was used as its raw bytes, so it becomes the whsec_ form of those bytes and its
-- senders keep verifying (the specification reads a secret without the prefix as base64).
alter table zaps add column verify jsonb;
update zaps set verify = jsonb_build_object(
  'scheme', 'standard-webhooks',
  'secrets', jsonb_build_array(case when secret like 'whsec\_%' then secret else 'whsec_' || translate(encode(convert_to(secret, 'UTF8'), 'base64'), E'\n', '') end),
  'toleranceSeconds', 300)
where secret is not null;
alter table zaps drop column secret;

-- Refused deliveries, so whoever connects a sender sees why it fails; the newest few per zap are kept.
create table webhook_rejections (
  id bigint generated always as identity primary key,
  zap_id uuid not null references zaps (id) on delete cascade,
  received_at timestamptz not null default now(),
  reason text not null,
  method text not null,
  sender_ip text,
  body_bytes integer not null,
  body_preview text not null
);
create index webhook_rejections_zap_idx on webhook_rejections (zap_id, id desc);
