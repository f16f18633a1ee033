import { execFileSync } from 'node:child_process';

export const HAPROXY = '/usr/sbin/haproxy';

/** Major.minor of the local haproxy binary (the image runs 3.4; Debian 12 ships 2.6). */
export function localHaproxyVersion(): [number, number] {
  const output = execFileSync(HAPROXY, ['-v'], { encoding: 'utf8' });
  const match = /version (\d+)\.(\d+)/i.exec(output);
  return match ? [Number(match[1]), Number(match[2])] : [0, 0];
}

/**
 * The generated config as the local haproxy can load it: `init-state` exists since HAProxy 3.1, so
 * an older local binary gets the config without it (said loudly; the pinned image has it).
 */
export function forLocalHaproxy(config: string): string {
  const [major, minor] = localHaproxyVersion();
  if (major > 3 || (major === 3 && minor >= 1)) return config;
  console.warn(`local haproxy ${major}.${minor} < 3.1: testing the Redis proxy config without 'init-state down'`);
  return config.replace(/ init-state down/g, '');
}

/**
 * The generated config for `haproxy -c` on this machine: servers are Kubernetes Service names, which
 * `init-addr last,libc,none` would resolve through the system resolver at start-up (a DNS query
 * leaving the machine). `init-addr none` checks the same config without resolving anything; the
 * resolution itself is exercised by the integration suite, whose names map to loopback addresses.
 */
export function withoutStartupResolution(config: string): string {
  const checked = config.replace(/ init-addr last,libc,none/g, ' init-addr none');
  if (checked === config) throw new Error('the config no longer has "init-addr last,libc,none": update withoutStartupResolution');
  return checked;
}
