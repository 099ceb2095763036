-- NOTIFY inside every outbox insert serialized all commits on the notification queue lock.
-- Writers now send one coalesced pg_notify after they commit; relays also poll.
drop trigger outbox_notify on outbox;
drop function notify_outbox();
