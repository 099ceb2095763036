-- The W3C traceparent of the webhook's ingest span, set only while tracing is on: each step of the run continues that trace.
alter table runs add column trace_parent text;
