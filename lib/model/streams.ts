import type { PlatformConfig } from '../config';
import { activeWorkerTypes, processesOf, type StreamName, WORKER_TYPES, type WorkerType } from './workers';

/**
 * Synapse's stream writers as typed data: for every stream Synapse lets a worker write
 * (synapse/config/workers.py WriterLocations), who writes it in this platform, what a process that is
 * not one of its writers does with a client request that writes it, and whether main writes it even
 * when dedicated writers exist. The route table (lib/model/routes.ts) and `stream_writers`
 * (lib/model/synapse-config.ts) are derived from here; docs/synapse-workers.md has the derived table.
 *
 * Facts checked against the pinned matrix-synapse (lib/versions.ts SYNAPSE_VERSION):
 * - Main's instance name is `master` (MAIN_PROCESS_INSTANCE_NAME). Only `instance_map` accepts `main`
 *   and renames it to `master`; `stream_writers` names are taken as they are and every one of them
 *   that is not `master` must be a key of the renamed instance_map, so `main` there is a ConfigError.
 * - Database background updates run only on main (synapse/app/homeserver.py
 *   start_doing_background_updates); five failures in a row abort them (storage/background_updates.py).
 */

/** Main's instance name in `stream_writers` (synapse/config/workers.py MAIN_PROCESS_INSTANCE_NAME). */
export const MAIN_STREAM_WRITER = 'master';

/** What a process that is not a writer of the stream does with a client request that writes it. */
export type NonWriterBehaviour =
  /** It raises (an assertion in the store or an explicit check in the servlet): the request fails with 500. */
  | 'fails'
  /** Its handler forwards the write to a writer over HTTP replication. */
  | 'forwards';

export interface StreamSpec {
  readonly name: StreamName;
  readonly nonWriter: NonWriterBehaviour;
  /** The client endpoints that write the stream and where upstream decides it (module and function). */
  readonly basis: string;
  /**
   * Main writes this stream even when dedicated writers exist, so `stream_writers` lists main too.
   * The reason names the upstream code that writes it on main.
   */
  readonly alsoWrittenByMain?: string;
}

/** Every stream of WriterLocations, in its order. */
export const STREAMS: readonly StreamSpec[] = [
  {
    name: 'events',
    nonWriter: 'forwards',
    basis:
      'Event sending (send, state, membership, redact, createRoom): handlers/message.py persists through ' +
      'ReplicationSendEventsRestServlet on the event persister that owns the room.',
  },
  {
    name: 'typing',
    nonWriter: 'fails',
    basis: 'PUT rooms/{id}/typing/{user}: rest/client/room.py RoomTypingRestServlet raises "not typing writer" on any other process.',
  },
  {
    name: 'to_device',
    nonWriter: 'fails',
    basis:
      'PUT sendToDevice/{type}/{txn}: handlers/devicemessage.py writes the device inbox directly; ' +
      'storage/databases/main/deviceinbox.py asserts _can_write_to_device.',
  },
  {
    name: 'account_data',
    nonWriter: 'forwards',
    basis:
      'PUT/DELETE user/{id}/account_data, rooms/{id}/account_data, rooms/{id}/tags/{tag}: handlers/account_data.py ' +
      'forwards to a writer (ReplicationAddUserAccountDataRestServlet, ...AddTag...) when it is not one.',
  },
  {
    name: 'receipts',
    nonWriter: 'fails',
    basis:
      'POST rooms/{id}/receipt/{type}/{event} and rooms/{id}/read_markers: handlers/receipts.py calls ' +
      'insert_receipt, which asserts _can_write_to_receipts (storage/databases/main/receipts.py); no replication forward.',
  },
  {
    name: 'presence',
    nonWriter: 'forwards',
    basis: 'PUT presence/{user}/status: handlers/presence.py WorkerPresenceHandler.set_state forwards (ReplicationPresenceSetState).',
  },
  {
    name: 'push_rules',
    nonWriter: 'fails',
    basis:
      'PUT/DELETE pushrules/...: rest/client/push_rule.py lists them in WORKERS_DENIED_METHODS and raises ' +
      '"Cannot handle PUT /push_rules on worker" where the process is not the push_rules writer.',
  },
  {
    name: 'device_lists',
    nonWriter: 'forwards',
    basis:
      'keys/upload, keys/device_signing/upload, keys/signatures/upload, devices, delete_devices: handlers/device.py ' +
      'DeviceHandler (non-writers) notifies the writers over replication (ReplicationNotifyDeviceUpdateRestServlet ...).',
  },
  {
    name: 'thread_subscriptions',
    nonWriter: 'fails',
    basis:
      'PUT/DELETE io.element.msc4306/rooms/{id}/thread/{root}/subscription (registered only with experimental ' +
      'msc4306_enabled): storage/databases/main/thread_subscriptions.py asserts _can_write_to_thread_subscriptions.',
  },
  {
    name: 'quarantined_media_changes',
    nonWriter: 'fails',
    basis:
      'The quarantine admin APIs (registered where the media repository runs): storage/databases/main/room.py ' +
      '_insert_quarantine_changes_txn asserts _can_write_quarantined_media_changes.',
    alsoWrittenByMain:
      'the background update flag_existing_quarantined_media (schema deltas 94/03 and 94/05) inserts into the stream ' +
      'through the same asserting function, and background updates run only on main',
  },
];

export function streamSpec(name: StreamName): StreamSpec {
  const found = STREAMS.find((stream) => stream.name === name);
  if (!found) throw new Error(`unknown Synapse stream ${name}`);
  return found;
}

/** The worker type that takes this stream off main, if the catalogue has one. */
export function writerTypeOf(stream: StreamName): WorkerType | undefined {
  return WORKER_TYPES.find((type) => type.streams.includes(stream));
}

/** The worker type that writes this stream in this config, or undefined when main writes it. */
export function activeWriterTypeOf(config: PlatformConfig, stream: StreamName): WorkerType | undefined {
  return activeWorkerTypes(config).find((type) => type.streams.includes(stream));
}

/**
 * `stream_writers` of this config: every stream with a dedicated writer pool lists that pool's processes,
 * plus main where main writes the stream regardless. Streams left out default to main in Synapse.
 */
export function streamWriters(config: PlatformConfig): Partial<Record<StreamName, string[]>> {
  const writers: Partial<Record<StreamName, string[]>> = {};
  for (const stream of STREAMS) {
    const workers = activeWorkerTypes(config)
      .filter((type) => type.streams.includes(stream.name))
      .flatMap((type) => processesOf(config, type).map((process) => process.instanceName));
    if (workers.length === 0) continue;
    writers[stream.name] = stream.alsoWrittenByMain ? [MAIN_STREAM_WRITER, ...workers] : workers;
  }
  return writers;
}
