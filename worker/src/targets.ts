import { lookup } from 'node:dns/promises'
import ipaddr from 'ipaddr.js'
import { refusedRange, type TargetScope } from '@zap/lib/targets'

export class BlockedTargetError extends Error {
  readonly code = 'blocked_target'
}

export type { TargetScope } from '@zap/lib/targets'

/** The addresses a host name stands for; injectable so tests can answer differently on every call. */
export type Resolve = (hostname: string) => Promise<string[]>

export const resolveWithDns: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address)

/**
 * Resolves the URL's host once and returns the addresses to connect to. Unless the scope is
 * `private`, every address must be public unicast (or loopback, in the `loopback` scope): private,
 * link-local, CGNAT, metadata, IPv4-mapped, IPv4-compatible and NAT64 IPv6 and the like are refused.
 */
export async function resolveTarget(url: URL, scope: TargetScope, resolve: Resolve): Promise<string[]> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BlockedTargetError(`Only http and https URLs are allowed, not ${url.protocol}`)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = ipaddr.isValid(host) ? [host] : await resolve(host)
  if (addresses.length === 0) throw new Error(`${host} has no address`)
  for (const address of addresses) {
    const range = refusedRange(address, scope)
    if (range) {
      throw new BlockedTargetError(`${url.hostname} resolves to ${address} (${range}); requests to private addresses are refused unless ALLOW_PRIVATE_TARGETS=true`)
    }
  }
  return addresses
}

/**
 * Fetches `url` from one of `addresses` (already checked), never resolving the name again: the IP
 * goes in the URL, the name in the Host header and as the TLS server name.
 */
export async function fetchFrom(url: URL, addresses: string[], init: RequestInit & { headers: Headers }): Promise<Response> {
  init.headers.set('host', url.host)
  const named = !ipaddr.isValid(url.hostname.replace(/^\[|\]$/g, ''))
  const options = named && url.protocol === 'https:' ? { ...init, tls: { ...(init as { tls?: object }).tls, serverName: url.hostname } } : init
  const request = (address: string) => {
    const pinned = new URL(url)
    pinned.hostname = address.includes(':') ? `[${address}]` : address
    return fetch(pinned, options)
  }
  // Nothing was sent to an address that refused the connection; a name may have a next one (localhost: ::1, then 127.0.0.1).
  for (const address of addresses.slice(0, -1)) {
    try {
      return await request(address)
    } catch (error) {
      if ((error as { code?: string }).code !== 'ConnectionRefused') throw error
    }
  }
  return request(addresses.at(-1)!)
}
