-- Concurrency and debounce keys are rendered once, left to right: text a reference inserts is never
-- scanned again (replacing each reference everywhere expanded {{...}} found inside inserted values, so
-- one small webhook could make a key of gigabytes). A key is stored as rendered up to 256 bytes; a
-- longer one becomes 'sha256:' and the hex digest of the template's text and of each inserted value's
-- digest, so equal keys stay equal and different ones apart without ever building the long key. A
-- reference repeated in the key is looked up and digested once.
create or replace function render_flow_key(template text, trigger jsonb) returns text language plpgsql immutable as $$
declare
  reference constant text := '\{\{\s*trigger\.([^{}\s]+)\s*\}\}';
  max_bytes constant integer := 256;
  literals text[] := regexp_split_to_array(template, reference);
  paths text[] := array(select m.groups[1] from regexp_matches(template, reference, 'g') with ordinality as m(groups, n) order by m.n);
  rendered text := literals[1];
  parts bytea := convert_to(literals[1], 'UTF8');
  seen_paths text[] := '{}';
  seen_digests bytea[] := '{}';
  seen_short_values text[] := '{}';
  value text;
  seen integer;
begin
  if octet_length(rendered) > max_bytes then
    rendered := null;
  end if;
  for i in 1 .. coalesce(array_length(paths, 1), 0) loop
    seen := array_position(seen_paths, paths[i]);
    if seen is null then
      value := coalesce(trigger #>> string_to_array(paths[i], '.'), '');
      seen_paths := array_append(seen_paths, paths[i]);
      seen_digests := array_append(seen_digests, sha256(convert_to(value, 'UTF8')));
      seen_short_values := array_append(seen_short_values, case when octet_length(value) <= max_bytes then value end);
      seen := array_length(seen_paths, 1);
    end if;
    if rendered is not null and seen_short_values[seen] is not null
      and octet_length(rendered) + octet_length(seen_short_values[seen]) + octet_length(literals[i + 1]) <= max_bytes then
      rendered := rendered || seen_short_values[seen] || literals[i + 1];
    else
      rendered := null;
    end if;
    parts := parts || seen_digests[seen] || convert_to(literals[i + 1], 'UTF8');
  end loop;
  return coalesce(rendered, 'sha256:' || encode(sha256(parts), 'hex'));
end $$;

-- A refused subscription check (an anonymous GET with a wrong verify token) is kept apart from a refused
-- delivery: each kind keeps its own newest rejections, so anyone's GETs cannot push signature failures out.
alter table webhook_rejections add column kind text not null default 'signature' check (kind in ('signature', 'handshake'));
update webhook_rejections set kind = 'handshake' where method = 'GET';
drop index webhook_rejections_zap_idx;
create index webhook_rejections_zap_kind_idx on webhook_rejections (zap_id, kind, id desc);
