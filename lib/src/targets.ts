import ipaddr from 'ipaddr.js'

/**
 * Which addresses outgoing requests may reach: public ones only (the default), also this machine's
 * loopback (`bun run dev`), or private networks too (`ALLOW_PRIVATE_TARGETS=true`). Link-local and
 * metadata addresses are private: only `private` reaches them.
 */
export type TargetScope = 'public' | 'loopback' | 'private'

/** The range of `address` when `scope` refuses it (`loopback`, `private`, `linkLocal`, ...), else null. */
export function refusedRange(address: string, scope: TargetScope): string | null {
  if (scope === 'private') return null
  const range = rangeOf(address)
  if (range === 'unicast' || (scope === 'loopback' && range === 'loopback')) return null
  return range
}

/** The address a URL names without asking DNS (an IP literal, or localhost), else null. */
export function literalAddressOf(url: URL) {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return '127.0.0.1'
  return ipaddr.isValid(host) ? host : null
}

function rangeOf(address: string) {
  const parsed = ipaddr.process(address)
  const range = parsed.range()
  // ::a.b.c.d (IPv4-compatible, deprecated) reaches the IPv4 address on some stacks; ipaddr.js calls it unicast.
  if (range === 'unicast' && parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) return 'ipv4Compatible'
  return range
}
