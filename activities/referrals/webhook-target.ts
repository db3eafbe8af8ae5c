import { lookup as dnsLookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'

/**
 * Where a partner webhook may point (issue 15 item 8). A webhook is a URL an administrator types
 * and the worker POSTs to: without these checks it reaches the worker's own loopback, the
 * private network behind it and the cloud metadata service (server-side request forgery).
 */
export interface WebhookPolicy {
  /** Outside the embedded default, only https. */
  httpsOnly: boolean
  /** When not empty, the only host names allowed (`partner.example.org`, `*.example.org`). */
  allowedHosts: readonly string[]
}

/** The safe default: https only, any public host. */
export const STRICT_WEBHOOKS: WebhookPolicy = { httpsOnly: true, allowedHosts: [] }

export type WebhookRefusal =
  | 'WEBHOOK_URL_INVALID'
  | 'WEBHOOK_HTTPS_REQUIRED'
  | 'WEBHOOK_HOST_NOT_ALLOWED'
  | 'WEBHOOK_ADDRESS_FORBIDDEN'

export class WebhookTargetError extends Error {
  constructor(
    readonly code: WebhookRefusal,
    message: string,
  ) {
    super(message)
    this.name = 'WebhookTargetError'
  }
}

// Loopback, private, link-local (cloud metadata 169.254.169.254 and fd00:ec2::254 among them),
// carrier-grade NAT (Alibaba's metadata 100.100.100.200), documentation, benchmarking,
// multicast and reserved ranges: nothing a partner's public endpoint lives in.
// Two lists: a BlockList matches an IPv4 address against IPv4-mapped IPv6 rules too.
const FORBIDDEN_V4 = new BlockList()
const FORBIDDEN_V6 = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  FORBIDDEN_V4.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-compatible, mapped and translated forms carry an IPv4 address: checked as such below,
  // and refused here whatever they carry.
  ['::', 96],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  FORBIDDEN_V6.addSubnet(net, prefix, 'ipv6')
}

/** The IPv4 address inside an IPv4-mapped/compatible/NAT64 IPv6 address, if any. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)(?:0:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (m) return m[1]
  const hex = /^(?:::ffff:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (!hex) return undefined
  const hi = parseInt(hex[1]!, 16)
  const lo = parseInt(hex[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

/**
 * Whether the worker must never send to `address` (an IP in canonical form, as DNS or the URL
 * parser give it). Anything that is not an IP is refused too.
 */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(bare)
  if (family === 4) return FORBIDDEN_V4.check(bare, 'ipv4')
  if (family !== 6) return true
  const v4 = embeddedIpv4(bare)
  if (v4 && FORBIDDEN_V4.check(v4, 'ipv4')) return true
  return FORBIDDEN_V6.check(bare, 'ipv6')
}

const hostAllowed = (host: string, allowed: readonly string[]) =>
  allowed.length === 0 ||
  allowed.some((entry) => {
    const e = entry.toLowerCase()
    return e.startsWith('*.') ? host.endsWith(e.slice(1)) && host.length > e.length - 1 : host === e
  })

/**
 * Checks a webhook URL without the network: a parsable http(s) URL without credentials, https
 * unless the policy allows http, a host on the allow-list if there is one, and no literal IP in
 * a forbidden range. The WHATWG parser has already turned decimal, octal and hexadecimal IPv4
 * spellings (`2130706433`, `0177.0.0.1`, `0x7f.1`) into `127.0.0.1`. Returns the parsed URL.
 */
export function checkWebhookUrl(raw: string, policy: WebhookPolicy): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new WebhookTargetError('WEBHOOK_URL_INVALID', 'not an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new WebhookTargetError('WEBHOOK_URL_INVALID', 'only http(s) URLs')
  }
  if (url.username || url.password) {
    throw new WebhookTargetError('WEBHOOK_URL_INVALID', 'no credentials in the URL')
  }
  if (policy.httpsOnly && url.protocol !== 'https:') {
    throw new WebhookTargetError('WEBHOOK_HTTPS_REQUIRED', 'webhooks must use https')
  }
  const host = url.hostname.toLowerCase()
  if (!hostAllowed(host, policy.allowedHosts)) {
    throw new WebhookTargetError('WEBHOOK_HOST_NOT_ALLOWED', 'host not on the allow-list')
  }
  const literal = host.replace(/^\[|\]$/g, '')
  if (isIP(literal) && isForbiddenAddress(literal)) {
    throw new WebhookTargetError('WEBHOOK_ADDRESS_FORBIDDEN', 'private or reserved address')
  }
  return url
}

export type Resolve = (host: string) => Promise<{ address: string }[]>

/** Every address of `host`, as the system resolver gives them (A and AAAA). */
export const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true })

/**
 * `checkWebhookUrl`, then every address the host resolves to right now must be public: checked
 * at each delivery, not only when the URL was saved, since a name can be re-pointed at any time.
 */
export async function resolveWebhookTarget(
  raw: string,
  policy: WebhookPolicy,
  resolve: Resolve = systemResolve,
): Promise<{ url: URL; addresses: string[] }> {
  const url = checkWebhookUrl(raw, policy)
  const host = url.hostname.replace(/^\[|\]$/g, '')
  let addresses: string[]
  if (isIP(host)) addresses = [host]
  else {
    try {
      addresses = (await resolve(host)).map((a) => a.address)
    } catch {
      // A name that does not resolve now may resolve later: retried, not refused.
      throw new Error('webhook host does not resolve')
    }
  }
  if (!addresses.length || addresses.some(isForbiddenAddress)) {
    throw new WebhookTargetError('WEBHOOK_ADDRESS_FORBIDDEN', 'resolves to a private address')
  }
  return { url, addresses }
}
