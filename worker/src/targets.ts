import { lookup } from 'node:dns/promises'
import ipaddr from 'ipaddr.js'

export class BlockedTargetError extends Error {
  readonly code = 'blocked_target'
}

/**
 * Refuses URLs that are not http(s) or whose host resolves to a non-public address (loopback,
 * private, link-local, CGNAT, metadata, IPv4-mapped IPv6 and the like) unless private targets are allowed.
 */
export async function checkTarget(url: URL, allowPrivate: boolean) {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BlockedTargetError(`Only http and https URLs are allowed, not ${url.protocol}`)
  if (allowPrivate) return
  const host = url.hostname.replace(/^\[|\]$/g, '')
  const addresses = ipaddr.isValid(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address)
  for (const address of addresses) {
    const range = ipaddr.process(address).range()
    if (range !== 'unicast') {
      throw new BlockedTargetError(`${url.hostname} resolves to ${address} (${range}); requests to private addresses are refused unless ALLOW_PRIVATE_TARGETS=true`)
    }
  }
}
