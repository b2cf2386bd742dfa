import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

const MAX_URL_LENGTH = 2048;

/**
 * ::/96, the deprecated IPv4-compatible IPv6 addresses (RFC 4291 2.5.5.1), :: and ::1 among them.
 * ipaddr.js calls them `unicast`, and reads the dotted form `::a.b.c.d` as if it were the mapped
 * `::ffff:a.b.c.d`, so they are matched here, by Node's own parser, before ipaddr.js is asked.
 */
const IPV4_COMPATIBLE = new BlockList();
IPV4_COMPATIBLE.addSubnet('::', 96, 'ipv6');

/** Why a URL may not be a webhook target; the message is safe to show to its owner. */
export class TargetRefusedError extends Error {
  constructor(
    message: string,
    /** `url`: the URL itself; `private`: where it leads now (a refused range); `unresolved`: no address now (may pass later). */
    readonly reason: 'url' | 'private' | 'unresolved' = 'url',
  ) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

/** Where to connect for a URL: the checked address, so the name is not resolved a second time. */
export interface ResolvedTarget {
  url: URL;
  /** The first address (a client that takes one connects here). */
  address: string;
  family: 4 | 6;
  /** Every checked address, in the resolver's order (a client that tries several families picks among these). */
  addresses: { address: string; family: 4 | 6 }[];
}

/**
 * Checks what a webhook URL is made of: http or https, a host, no credentials, not too long.
 * Resolves the parsed URL; throws TargetRefusedError otherwise.
 */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_URL_LENGTH) throw new TargetRefusedError(`url must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetRefusedError('url must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetRefusedError('url must use http or https');
  if (url.username !== '' || url.password !== '') throw new TargetRefusedError('url must not contain credentials');
  if (url.hostname === '') throw new TargetRefusedError('url must name a host');
  // The web's ports and the unprivileged ones: a delivery log of connection errors and answers
  // from any port would map the system services (SSH, SMTP, DNS…) of any public host. Services on
  // higher ports stay reachable, as they must for receivers on 3000 or 8443.
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (port !== 80 && port !== 443 && port < 1024) throw new TargetRefusedError('url must use port 80, 443 or 1024–65535');
  return url;
}

/**
 * Whether `address` is an ordinary public unicast address. Loopback, private (RFC 1918, unique
 * local), link-local (which holds the cloud metadata service 169.254.169.254), carrier-grade NAT,
 * multicast, reserved, unspecified and the IPv6 ranges that embed other addresses (IPv4-compatible
 * ::/96, 6to4, Teredo, NAT64) are not; an IPv4-mapped IPv6 address counts as the IPv4 address it maps.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  if (isIP(address) === 6 && IPV4_COMPATIBLE.check(address, 'ipv6')) return false;
  return ipaddr.process(address).range() === 'unicast';
}

/**
 * Resolves the URL's host now (an IP literal as it is) and picks the address to connect to.
 * Unless `allowPrivate`, every address the name resolves to must be public (a name with one
 * private address among public ones is refused too: which one a client uses is not ours to pick).
 */
export async function resolveTarget(url: URL, allowPrivate: boolean): Promise<ResolvedTarget> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (error) {
      throw new TargetRefusedError(
        `${host} does not resolve (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'unresolved',
      );
    }
  }
  if (addresses.length === 0) throw new TargetRefusedError(`${host} does not resolve`, 'unresolved');
  if (!allowPrivate) {
    const refused = addresses.find(({ address }) => !isPublicAddress(address));
    if (refused) {
      throw new TargetRefusedError(
        `${host} resolves to ${refused.address}, a loopback, private, link-local or reserved address, which webhooks may not reach`,
        'private',
      );
    }
  }
  const checked = addresses.map(({ address, family }) => ({ address, family: family === 6 ? (6 as const) : (4 as const) }));
  return { url, ...checked[0], addresses: checked };
}
