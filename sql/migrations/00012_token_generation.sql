-- A token carries its user's generation; logging out moves it on, so every earlier token stops working.
alter table users add column token_generation integer not null default 0;
