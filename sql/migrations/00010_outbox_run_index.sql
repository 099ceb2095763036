-- Deleting a run (retention, a deleted zap) deletes its outbox rows: without this index each deleted run
-- scanned the whole outbox, which holds a backlog exactly when Kafka is down.
create index outbox_run_id_idx on outbox (run_id);
