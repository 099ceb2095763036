-- rate-limiter-flexible's table for RateLimiterPostgres. Unlogged: a counter is not worth a WAL flush
-- on every webhook, and losing the counters in a crash only resets the windows.
create unlogged table rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);

-- A zap's own webhook limit, {"requests": N, "perSeconds": S}; null uses the server's default.
alter table zaps add column webhook_rate_limit jsonb;

-- Whether a zap's runs keep the authorization, cookie and proxy-authorization headers of their webhook.
alter table zaps add column keep_sensitive_headers boolean not null default false;
