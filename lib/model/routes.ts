import type { PlatformConfig } from '../config';
import { activeWriterTypeOf } from './streams';
import { activeWorkerTypes, MAIN_INSTANCE, type StreamName, type WorkerType, type WorkerTypeId, workerType } from './workers';

/**
 * The route table of the internal router as typed data. The HAProxy config (constructs/haproxy-router.ts)
 * and the TypeScript matcher below are both generated from it, so the tests that evaluate the matcher
 * evaluate the router's rules.
 *
 * Source: docs/workers.md of the pinned Synapse (synapse.app.generic_worker, stream writers,
 * media repository, user directory). Rules:
 * - First match wins; anything unmatched goes to main.
 * - A route names candidate pools in preference order; the first pool that has processes in the
 *   config serves it. A route with no active pool is dropped, so its requests fall through to the
 *   next route or to main.
 * - A route that writes a stream names the stream instead (StreamWriteRoute): its writer pool, or main.
 * - `methods` restricts a route (docs: "can be handled for GET requests"); other methods fall through.
 * - Patterns are matched against the path without the query string and use only regex syntax that
 *   PCRE (HAProxy path_reg) and JavaScript agree on.
 */

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS' | 'PATCH';

interface RouteBase {
  readonly id: string;
  readonly pattern: string;
  readonly methods?: readonly HttpMethod[];
  /** Sync requests without a `since` query parameter go to the initial-sync pool when it exists. */
  readonly initialSyncSplit?: boolean;
  /**
   * Balance by the room ID in the path (consistent hash) instead of the pool's own balance: every
   * request for one room reaches the same process (docs/workers.md, pagination).
   */
  readonly stickyByRoom?: boolean;
}

/** A route served by the first of its candidate pools that has processes; dropped when none has. */
export interface PoolRoute extends RouteBase {
  readonly pools: readonly WorkerTypeId[];
  readonly writes?: undefined;
}

/**
 * A route whose requests write a stream (lib/model/streams.ts). It goes to the stream's writer pool
 * when that pool has processes. Otherwise main writes the stream and the route sends the methods that
 * write (WRITE_METHODS) to main, explicitly, so no later route can take them to a process that is not
 * a writer; reads fall through to the next route.
 */
export interface StreamWriteRoute extends RouteBase {
  readonly writes: StreamName;
  readonly pools?: undefined;
}

export type RouteSpec = PoolRoute | StreamWriteRoute;

/** The methods of Synapse's stream-writing servlets (on_PUT, on_POST, on_DELETE). */
export const WRITE_METHODS: readonly HttpMethod[] = ['POST', 'PUT', 'DELETE'];

/**
 * Endpoints a generic worker could serve that the router deliberately leaves on main, with the reason.
 * scripts/check_worker_routes.py fails on any other worker-servable endpoint that reaches main.
 */
export const MAIN_BY_CHOICE: readonly { readonly pattern: string; readonly reason: string }[] = [];

const CLIENT = '^/_matrix/client';
const V3 = '(r0|v3|unstable)';
const V1V3 = '(api/v1|r0|v3|unstable)';
const GET_ONLY: readonly HttpMethod[] = ['GET'];

/** In match order. */
export const ROUTES: readonly RouteSpec[] = [
  // Media repository (any method): client, federation and admin media APIs.
  { id: 'media-legacy', pattern: '^/_matrix/media/', pools: ['mediaRepository'] },
  { id: 'media-client', pattern: `${CLIENT}/v1/media/`, pools: ['mediaRepository'] },
  { id: 'media-federation', pattern: '^/_matrix/federation/v1/media/', pools: ['mediaRepository'] },
  { id: 'media-synapse', pattern: '^/_synapse/media/', pools: ['mediaRepository'] },
  { id: 'media-admin-purge-cache', pattern: '^/_synapse/admin/v1/purge_media_cache$', pools: ['mediaRepository'] },
  { id: 'media-admin-room', pattern: '^/_synapse/admin/v1/room/.*/media.*$', pools: ['mediaRepository'] },
  { id: 'media-admin-user', pattern: '^/_synapse/admin/v1/user/.*/media.*$', pools: ['mediaRepository'] },
  { id: 'media-admin-media', pattern: '^/_synapse/admin/v1/media/.*$', pools: ['mediaRepository'] },
  { id: 'media-admin-quarantine', pattern: '^/_synapse/admin/v1/quarantine_media/.*$', pools: ['mediaRepository'] },
  { id: 'media-admin-users', pattern: '^/_synapse/admin/v1/users/.*/media$', pools: ['mediaRepository'] },

  // Sync: sticky per user; initial syncs optionally isolated.
  { id: 'sync', pattern: `${CLIENT}/${V3}/sync$`, pools: ['sync'], initialSyncSplit: true },
  // Simplified sliding sync (MSC4186, Element X): served by workers, sticky per user like /sync. It
  // has no `since` (its position is `pos`), so it never goes to the initial-sync pool.
  { id: 'sliding-sync', pattern: `${CLIENT}/unstable/org.matrix.simplified_msc3575/sync$`, pools: ['sync'] },
  { id: 'events', pattern: `${CLIENT}/${V1V3}/events$`, pools: ['sync'] },
  { id: 'initial-sync', pattern: `${CLIENT}/${V1V3}/initialSync$`, pools: ['initialSync', 'sync'] },
  { id: 'room-initial-sync', pattern: `${CLIENT}/${V1V3}/rooms/[^/]+/initialSync$`, pools: ['initialSync', 'sync'] },

  // Stream writers (lib/model/streams.ts): writes reach the stream's writer pool, or main when the
  // stream has none. Reads that any worker serves follow as GET-only routes.
  { id: 'typing', pattern: `${CLIENT}/${V1V3}/rooms/.*/typing`, writes: 'typing' },
  { id: 'to-device', pattern: `${CLIENT}/${V3}/sendToDevice/`, writes: 'to_device' },
  { id: 'tags', pattern: `${CLIENT}/${V3}/.*/tags`, writes: 'account_data' },
  { id: 'account-data', pattern: `${CLIENT}/${V3}/.*/account_data`, writes: 'account_data' },
  { id: 'tags-read', pattern: `${CLIENT}/${V3}/.*/tags`, pools: ['generic'], methods: GET_ONLY },
  { id: 'account-data-read', pattern: `${CLIENT}/${V3}/.*/account_data`, pools: ['generic'], methods: GET_ONLY },
  // Read markers write receipts (m.read, m.read.private) besides account data (m.fully_read).
  { id: 'receipt', pattern: `${CLIENT}/${V3}/rooms/.*/receipt`, writes: 'receipts' },
  { id: 'read-markers', pattern: `${CLIENT}/${V3}/rooms/.*/read_markers`, writes: 'receipts' },
  { id: 'presence', pattern: `${CLIENT}/${V1V3}/presence/`, writes: 'presence' },
  { id: 'presence-read', pattern: `${CLIENT}/${V1V3}/presence/`, pools: ['generic'], methods: GET_ONLY },
  { id: 'user-directory', pattern: `${CLIENT}/${V3}/user_directory/search$`, pools: ['userDirectory', 'generic'] },

  // Federation: balanced by the remote server's address so a server's transactions stay in order.
  { id: 'federation-version', pattern: '^/_matrix/federation/v1/version$', pools: ['federationReader'] },
  { id: 'federation-event', pattern: '^/_matrix/federation/v1/event/', pools: ['federationReader'] },
  { id: 'federation-state', pattern: '^/_matrix/federation/v1/state/', pools: ['federationReader'] },
  { id: 'federation-state-ids', pattern: '^/_matrix/federation/v1/state_ids/', pools: ['federationReader'] },
  { id: 'federation-backfill', pattern: '^/_matrix/federation/v1/backfill/', pools: ['federationReader'] },
  { id: 'federation-missing-events', pattern: '^/_matrix/federation/v1/get_missing_events/', pools: ['federationReader'] },
  { id: 'federation-public-rooms', pattern: '^/_matrix/federation/v1/publicRooms', pools: ['federationReader'] },
  { id: 'federation-query', pattern: '^/_matrix/federation/v1/query/', pools: ['federationReader'] },
  { id: 'federation-make-join', pattern: '^/_matrix/federation/v1/make_join/', pools: ['federationReader'] },
  { id: 'federation-make-leave', pattern: '^/_matrix/federation/v1/make_leave/', pools: ['federationReader'] },
  { id: 'federation-send-join', pattern: '^/_matrix/federation/(v1|v2)/send_join/', pools: ['federationReader'] },
  { id: 'federation-send-leave', pattern: '^/_matrix/federation/(v1|v2)/send_leave/', pools: ['federationReader'] },
  { id: 'federation-make-knock', pattern: '^/_matrix/federation/v1/make_knock/', pools: ['federationReader'] },
  { id: 'federation-send-knock', pattern: '^/_matrix/federation/v1/send_knock/', pools: ['federationReader'] },
  { id: 'federation-invite', pattern: '^/_matrix/federation/(v1|v2)/invite/', pools: ['federationReader'] },
  { id: 'federation-event-auth', pattern: '^/_matrix/federation/v1/event_auth/', pools: ['federationReader'] },
  { id: 'federation-timestamp', pattern: '^/_matrix/federation/v1/timestamp_to_event/', pools: ['federationReader'] },
  {
    id: 'federation-3pid-invite',
    pattern: '^/_matrix/federation/v1/exchange_third_party_invite/',
    pools: ['federationReader'],
  },
  { id: 'federation-user-devices', pattern: '^/_matrix/federation/v1/user/devices/', pools: ['federationReader'] },
  { id: 'federation-key-query', pattern: '^/_matrix/key/v2/query', pools: ['federationReader'] },
  // Not in workers.md, but every process with a `federation` resource mounts KeyResource at /_matrix/key/v2
  // (synapse/app/generic_worker.py): remote servers fetching our signing keys stay off main.
  { id: 'federation-key-server', pattern: '^/_matrix/key/v2/server', pools: ['federationReader'] },
  { id: 'federation-hierarchy', pattern: '^/_matrix/federation/v1/hierarchy/', pools: ['federationReader'] },
  { id: 'federation-send', pattern: '^/_matrix/federation/v1/send/', pools: ['federationReader'] },
  // Worker-servable in the pinned Synapse (generate_workers_map), not (yet) listed in docs/workers.md.
  // E2EE with federated users: remote servers query and claim our users' keys.
  { id: 'federation-user-keys', pattern: '^/_matrix/federation/v1/user/keys/(query|claim)$', pools: ['federationReader'] },
  // OpenID userinfo: lk-jwt-service validates MatrixRTC (Element Call) OpenID tokens here.
  { id: 'federation-openid-userinfo', pattern: '^/_matrix/federation/v1/openid/userinfo$', pools: ['federationReader'] },
  { id: 'federation-room-complexity', pattern: '^/_matrix/federation/unstable/rooms/[^/]+/complexity$', pools: ['federationReader'] },
  { id: 'federation-3pid-onbind', pattern: '^/_matrix/federation/v1/3pid/onbind$', pools: ['federationReader'] },

  // Client API on generic workers.
  // PUT .../createRoom/<txnId> is the idempotent form (generate_workers_map).
  { id: 'create-room', pattern: `${CLIENT}/${V1V3}/createRoom(/[^/]*)?$`, pools: ['generic'] },
  { id: 'public-rooms', pattern: `${CLIENT}/${V1V3}/publicRooms$`, pools: ['generic'] },
  { id: 'joined-members', pattern: `${CLIENT}/${V1V3}/rooms/.*/joined_members$`, pools: ['generic'] },
  { id: 'context', pattern: `${CLIENT}/${V1V3}/rooms/.*/context/.*$`, pools: ['generic'] },
  { id: 'members', pattern: `${CLIENT}/${V1V3}/rooms/.*/members$`, pools: ['generic'] },
  { id: 'state', pattern: `${CLIENT}/${V1V3}/rooms/.*/state$`, pools: ['generic'] },
  { id: 'hierarchy', pattern: `${CLIENT}/v1/rooms/.*/hierarchy$`, pools: ['generic'] },
  { id: 'relations', pattern: `${CLIENT}/(v1|unstable)/rooms/.*/relations/`, pools: ['generic'] },
  { id: 'threads', pattern: `${CLIENT}/v1/rooms/.*/threads$`, pools: ['generic'] },
  { id: 'room-summary', pattern: `${CLIENT}/unstable/im.nheko.summary/summary/.*$`, pools: ['generic'] },
  { id: 'room-summary-rooms', pattern: `${CLIENT}/unstable/im.nheko.summary/rooms/[^/]+/summary$`, pools: ['generic'] },
  // MSC3266, stable since Synapse 1.153: room previews and Element Call look rooms up here.
  { id: 'room-summary-v1', pattern: `${CLIENT}/v1/room_summary/.*$`, pools: ['generic'] },
  { id: 'event-by-id', pattern: `${CLIENT}/${V1V3}/events/[^/]+$`, pools: ['generic'] },
  { id: 'appservice-ping', pattern: `${CLIENT}/(v1|unstable)/appservice/[^/]+/ping$`, pools: ['generic'] },
  // MSC4143 (MatrixRTC transports, Element Call): registered on workers when msc4143_enabled is set.
  { id: 'rtc-transports', pattern: `${CLIENT}/unstable/org[.]matrix[.]msc4143/rtc/transports$`, pools: ['generic'] },
  { id: 'account-3pid', pattern: `${CLIENT}/${V3}/account/3pid$`, pools: ['generic'] },
  { id: 'whoami', pattern: `${CLIENT}/${V3}/account/whoami$`, pools: ['generic'] },
  { id: 'deactivate', pattern: `${CLIENT}/${V3}/account/deactivate$`, pools: ['generic'] },
  { id: 'delete-devices', pattern: `${CLIENT}/${V3}/delete_devices$`, pools: ['generic'] },
  { id: 'devices', pattern: `${CLIENT}/${V1V3}/devices(/|$)`, pools: ['generic'] },
  { id: 'versions', pattern: `${CLIENT}/versions$`, pools: ['generic'] },
  { id: 'turn-server', pattern: `${CLIENT}/${V1V3}/voip/turnServer$`, pools: ['generic'] },
  { id: 'room-event', pattern: `${CLIENT}/${V1V3}/rooms/.*/event/`, pools: ['generic'] },
  { id: 'joined-rooms', pattern: `${CLIENT}/${V1V3}/joined_rooms$`, pools: ['generic'] },
  { id: 'timestamp-to-event', pattern: `${CLIENT}/v1/rooms/.*/timestamp_to_event$`, pools: ['generic'] },
  { id: 'aliases', pattern: `${CLIENT}/(api/v1|r0|v3|unstable/.*)/rooms/.*/aliases`, pools: ['generic'] },
  { id: 'search', pattern: `${CLIENT}/${V1V3}/search$`, pools: ['generic'] },
  { id: 'filter', pattern: `${CLIENT}/${V3}/user/.*/filter(/|$)`, pools: ['generic'] },
  { id: 'directory-room', pattern: `${CLIENT}/${V1V3}/directory/room/.*$`, pools: ['generic'] },
  { id: 'capabilities', pattern: `${CLIENT}/${V3}/capabilities$`, pools: ['generic'] },
  { id: 'notifications', pattern: `${CLIENT}/${V3}/notifications$`, pools: ['generic'] },
  { id: 'admin-room', pattern: '^/_synapse/admin/v1/rooms/[^/]+$', pools: ['generic'] },
  // Encryption.
  { id: 'keys-query', pattern: `${CLIENT}/${V3}/keys/query$`, pools: ['generic'] },
  { id: 'keys-changes', pattern: `${CLIENT}/${V3}/keys/changes$`, pools: ['generic'] },
  { id: 'keys-claim', pattern: `${CLIENT}/${V3}/keys/claim$`, pools: ['generic'] },
  { id: 'room-keys', pattern: `${CLIENT}/${V3}/room_keys/`, pools: ['generic'] },
  { id: 'keys-upload', pattern: `${CLIENT}/${V3}/keys/upload`, pools: ['generic'] },
  { id: 'device-signing-upload', pattern: `${CLIENT}/${V1V3}/keys/device_signing/upload$`, pools: ['generic'] },
  { id: 'signatures-upload', pattern: `${CLIENT}/${V1V3}/keys/signatures/upload$`, pools: ['generic'] },
  // Registration and login.
  { id: 'login', pattern: `${CLIENT}/${V1V3}/login$`, pools: ['generic'] },
  { id: 'register', pattern: `${CLIENT}/${V3}/register$`, pools: ['generic'] },
  { id: 'register-available', pattern: `${CLIENT}/${V3}/register/available$`, pools: ['generic'] },
  {
    id: 'registration-token-validity',
    pattern: `${CLIENT}/(v1|unstable)/register/m.login.registration_token/validity$`,
    pools: ['generic'],
  },
  { id: 'password-policy', pattern: `${CLIENT}/${V3}/password_policy$`, pools: ['generic'] },
  // Event sending (event creators forward to the event persisters).
  { id: 'redact', pattern: `${CLIENT}/${V1V3}/rooms/.*/redact`, pools: ['generic'] },
  { id: 'send', pattern: `${CLIENT}/${V1V3}/rooms/.*/send`, pools: ['generic'] },
  { id: 'state-event', pattern: `${CLIENT}/${V1V3}/rooms/.*/state/`, pools: ['generic'] },
  // With an optional transaction ID (PUT, generate_workers_map).
  { id: 'membership', pattern: `${CLIENT}/${V1V3}/rooms/.*/(join|invite|leave|ban|unban|kick)(/[^/]*)?$`, pools: ['generic'] },
  { id: 'join', pattern: `${CLIENT}/${V1V3}/join/`, pools: ['generic'] },
  { id: 'knock', pattern: `${CLIENT}/${V1V3}/knock/`, pools: ['generic'] },
  { id: 'profile', pattern: `${CLIENT}/${V1V3}/profile/`, pools: ['generic'] },
  // push_rules has no writer pool here: its writes go to main, reads to generic workers.
  { id: 'push-rules', pattern: `${CLIENT}/${V1V3}/pushrules/`, writes: 'push_rules' },
  { id: 'push-rules-read', pattern: `${CLIENT}/${V1V3}/pushrules/`, pools: ['generic'], methods: GET_ONLY },
  // Delayed events: GET only on workers; the other writes (cancel, send, update) stay on main.
  {
    id: 'delayed-events-read',
    pattern: `${CLIENT}/unstable/org[.]matrix[.]msc4140/delayed_events(/[^/]+)?$`,
    pools: ['generic'],
    methods: GET_ONLY,
  },
  // Restart is the one delayed-event write a worker serves (Synapse 1.144); cancel/send/update stay on main.
  { id: 'delayed-events-restart', pattern: `${CLIENT}/unstable/org[.]matrix[.]msc4140/delayed_events/[^/]+/restart$`, pools: ['generic'], methods: ['POST'] },
  // Pagination: all requests for one room must reach the same process, so the router hashes the room ID
  // (consistent hashing: a room moves only when the pool changes). Do not run the purge history admin
  // API on a room while it is being paginated (docs/workers.md).
  { id: 'messages', pattern: `${CLIENT}/${V1V3}/rooms/[^/]+/messages$`, pools: ['generic'], stickyByRoom: true },
];

/** Where a route sends its requests in this config: a worker pool or main. */
export type RouteTarget = WorkerType | typeof MAIN_INSTANCE;

export type ResolvedRoute = RouteSpec & {
  readonly target: RouteTarget;
  /** The initial-sync pool for sync requests without `since`, when it exists. */
  readonly initialSyncTarget?: WorkerType;
};

export function resolveRoutes(config: PlatformConfig): ResolvedRoute[] {
  const active = new Set(activeWorkerTypes(config).map((type) => type.id));
  const initialSync = active.has('initialSync') ? workerType('initialSync') : undefined;
  const resolved: ResolvedRoute[] = [];
  for (const route of ROUTES) {
    if (route.writes !== undefined) {
      const writer = activeWriterTypeOf(config, route.writes);
      resolved.push(writer ? { ...route, target: writer } : { ...route, target: MAIN_INSTANCE, methods: route.methods ?? WRITE_METHODS });
      continue;
    }
    const poolId = route.pools.find((candidate) => active.has(candidate));
    if (poolId === undefined) continue;
    resolved.push({
      ...route,
      target: workerType(poolId),
      ...(route.initialSyncSplit && initialSync ? { initialSyncTarget: initialSync } : {}),
    });
  }
  return resolved;
}

export interface RequestDescription {
  readonly method: HttpMethod;
  /** Path with an optional query string. */
  readonly url: string;
}

/** The pool id (`main` or a worker type id) the router sends a request to, under the same rules as HAProxy. */
export function routeRequest(routes: readonly ResolvedRoute[], request: RequestDescription): WorkerTypeId | typeof MAIN_INSTANCE {
  const [path, query = ''] = request.url.split('?', 2);
  for (const route of routes) {
    if (route.methods && !route.methods.includes(request.method)) continue;
    if (!new RegExp(route.pattern).test(path)) continue;
    if (route.initialSyncTarget) {
      const hasSince = query.split('&').some((pair) => pair.split('=')[0] === 'since');
      if (!hasSince) return route.initialSyncTarget.id;
    }
    return route.target === MAIN_INSTANCE ? MAIN_INSTANCE : route.target.id;
  }
  return MAIN_INSTANCE;
}
