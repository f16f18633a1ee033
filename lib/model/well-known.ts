import { rtcFoci } from './calls';
import type { Platform } from './index';

/**
 * The Matrix discovery documents served on the server name's host:
 * /.well-known/matrix/server delegates federation to the matrix host on 443, and
 * /.well-known/matrix/client tells clients the homeserver URL and, with calls, the LiveKit focus.
 */

export const WELL_KNOWN_PATH_PREFIX = '/.well-known/matrix';

export interface WellKnownDocuments {
  /** JSON text of /.well-known/matrix/server. */
  readonly server: string;
  /** JSON text of /.well-known/matrix/client. */
  readonly client: string;
}

export function wellKnownServer(platform: Platform): Record<string, unknown> {
  return { 'm.server': `${platform.hosts.matrix}:443` };
}

export function wellKnownClient(platform: Platform): Record<string, unknown> {
  const client: Record<string, unknown> = { 'm.homeserver': { base_url: `https://${platform.hosts.matrix}` } };
  // The foci list is owned by the calls model (lib/model/calls.ts); empty when calls are off.
  const foci = rtcFoci(platform);
  if (foci.length > 0) client['org.matrix.msc4143.rtc_foci'] = foci;
  return client;
}

export function wellKnownDocuments(platform: Platform): WellKnownDocuments {
  return {
    server: `${JSON.stringify(wellKnownServer(platform), null, 2)}\n`,
    client: `${JSON.stringify(wellKnownClient(platform), null, 2)}\n`,
  };
}
