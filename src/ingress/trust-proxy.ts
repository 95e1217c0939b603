// INGRESS_TRUST_PROXY in the forms Express documents for "trust proxy": true or false, a hop
// count, or addresses and subnets (comma-separated; also loopback, linklocal, uniquelocal). Any
// other value is refused at start-up naming the forms, instead of crashing on the first request.
import { isIP } from 'node:net';

export type TrustProxy = boolean | number | string[];

const NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const FORMS =
  'expected true or false, a hop count such as 1, or addresses and subnets, comma-separated, such as "loopback, 10.0.0.0/8, 203.0.113.7"';

function addressProblem(item: string): string | null {
  if (NAMES.includes(item)) return null;
  const [address, mask, extra] = item.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return `"${item.slice(0, 60)}" is not an address or subnet`;
  if (mask === undefined) return null;
  if (/^\d{1,3}$/.test(mask) && Number(mask) <= (family === 4 ? 32 : 128)) return null;
  if (family === 4 && isIP(mask) === 4) return null;
  return `"${item.slice(0, 60)}" has a bad prefix length or netmask`;
}

export function parseTrustProxy(
  raw: string,
): { ok: true; value: TrustProxy } | { ok: false; message: string } {
  const value = raw.trim();
  if (/^(true|false)$/i.test(value)) return { ok: true, value: value.toLowerCase() === 'true' };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops <= 100 ? { ok: true, value: hops } : { ok: false, message: `${hops} hops: ${FORMS}` };
  }
  const items = value.split(',').map((i) => i.trim().toLowerCase());
  const problems = items.map((i) => (i ? addressProblem(i) : 'an empty item')).filter(Boolean);
  return problems.length
    ? { ok: false, message: `${problems.join('; ')}: ${FORMS}` }
    : { ok: true, value: items };
}
