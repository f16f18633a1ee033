import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

/**
 * Small, reusable value types of the config schema. Each carries a human description that
 * doubles as the "expected" part of a config error message and as the JSON Schema description.
 */

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsName(value: string): boolean {
  if (value.length > 253 || !value.includes('.')) return false;
  return value.split('.').every((label) => DNS_LABEL.test(label));
}

export const dnsName = z
  .string()
  .refine(isDnsName, { message: 'a lower-case DNS name with at least one dot, such as matrix.example.org' })
  .describe('A fully qualified, lower-case DNS name.');

/** Kubernetes object names (RFC 1123 label), e.g. storage class or node label values. */
export const k8sName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Kubernetes resource name (lower-case letters, digits, "-" and ".")');

export const labelKey = z
  .string()
  .regex(
    /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
    'a Kubernetes label key such as livekit or example.org/role',
  );

export const labelValue = z
  .string()
  .regex(/^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/, 'a Kubernetes label value (at most 63 letters, digits, "-", "_", ".")');

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
}

function ipv6ToBigInt(address: string): bigint {
  const [head, tail = ''] = address.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const expand = (parts: string[]) =>
    parts.flatMap((part) => {
      if (!isIPv4(part)) return [part];
      const n = ipv4ToNumber(part);
      return [(n >>> 16).toString(16), (n & 0xffff).toString(16)];
    });
  const left = expand(headParts);
  const right = expand(tailParts);
  const missing = address.includes('::') ? 8 - left.length - right.length : 0;
  const groups = [...left, ...Array(missing).fill('0'), ...right];
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(parseInt(group || '0', 16)), 0n);
}

/** Numeric value of an IPv4 or IPv6 address, for ordering and range checks. */
export function ipToBigInt(address: string): bigint {
  return isIPv4(address) ? BigInt(ipv4ToNumber(address)) : ipv6ToBigInt(address);
}

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

export function parseCidr(value: string): ParsedCidr | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value);
  if (!match) return undefined;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  if (isIPv4(address) && prefix <= 32) return { address, prefix, family: 4 };
  if (isIPv6(address) && prefix <= 128) return { address, prefix, family: 6 };
  return undefined;
}

/** True when the address has no bits set below the prefix (a canonical network address). */
export function cidrIsCanonical(cidr: ParsedCidr): boolean {
  const width = cidr.family === 4 ? 32 : 128;
  const hostBits = BigInt(width - cidr.prefix);
  const mask = (1n << hostBits) - 1n;
  return (ipToBigInt(cidr.address) & mask) === 0n;
}

export const cidr = z
  .string()
  .refine((value) => parseCidr(value) !== undefined, {
    message: 'an IPv4 or IPv6 CIDR such as 203.0.113.0/24 or 2001:db8::/32',
  })
  .refine(
    (value) => {
      const parsed = parseCidr(value);
      return parsed === undefined || cidrIsCanonical(parsed);
    },
    { message: 'a network address with no host bits set (for example 10.0.0.0/8, not 10.0.0.1/8)' },
  )
  .describe('An IPv4 or IPv6 network in CIDR notation.');

export function isIpRange(value: string): boolean {
  if (parseCidr(value)) return true;
  const parts = value.split('-');
  if (parts.length !== 2) return false;
  const [first, last] = parts.map((part) => part.trim());
  const sameFamily = (isIPv4(first) && isIPv4(last)) || (isIPv6(first) && isIPv6(last));
  return sameFamily && ipToBigInt(first) <= ipToBigInt(last);
}

export const ipRange = z
  .string()
  .refine(isIpRange, {
    message: 'a CIDR (192.0.2.0/28) or an ascending address range (192.0.2.10-192.0.2.20)',
  })
  .describe('A CIDR or a first-last address range for LoadBalancer addresses.');

export const ipAddress = z
  .string()
  .refine((value) => isIPv4(value) || isIPv6(value), { message: 'an IPv4 or IPv6 address' })
  .describe('A single IP address.');

export const port = z.number().int().min(1).max(65535).describe('A TCP or UDP port number.');

const QUANTITY = /^([+]?[0-9]+(\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

export const cpuQuantity = z
  .string()
  .regex(/^([0-9]+m|[0-9]+(\.[0-9]{1,3})?)$/, 'a CPU quantity such as 500m or 2')
  .describe('A Kubernetes CPU quantity.');

export const memoryQuantity = z
  .string()
  .regex(QUANTITY, 'a memory or storage quantity such as 512Mi or 20Gi')
  .describe('A Kubernetes memory or storage quantity.');

export const storageSize = memoryQuantity;

export const resources = z
  .strictObject({
    requests: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
    limits: z.strictObject({ cpu: cpuQuantity, memory: memoryQuantity }),
  })
  .describe('Container resource requests and limits.');

export type Resources = z.infer<typeof resources>;

/** Prometheus/Loki style duration: 15d, 720h, 2w. */
export const retentionDuration = z
  .string()
  .regex(/^[1-9][0-9]*(h|d|w|y)$/, 'a duration such as 15d, 720h or 4w')
  .describe('A retention period.');

/** CloudNativePG schedules use six cron fields (seconds first). */
export const cnpgSchedule = z
  .string()
  .refine((value) => value.trim().split(/\s+/).length === 6, {
    message: 'a six-field cron expression with seconds first, such as "0 0 3 * * *"',
  });

export const cronSchedule = z
  .string()
  .refine((value) => value.trim().split(/\s+/).length === 5, {
    message: 'a five-field cron expression such as "30 4 * * *"',
  });

export const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address such as ops@example.org');

export const replicas = (minimum: number, description: string) =>
  z.number().int().min(minimum).describe(description);
