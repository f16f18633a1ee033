/**
 * Post-deployment smoke test of a running platform, from the client side only:
 *
 *   npm run smoke -- --url https://matrix.example.org --server-name example.org \
 *     --registration-secret-file ./registration_shared_secret [--well-known-url URL] [--skip lk-jwt,...]
 *     [--forwarded-for ADDR]   (tests only: a client address for a router that has no edge in front)
 *
 * Registers a throw-away user with the registration shared secret (the admin register nonce + HMAC
 * flow), logs in, creates a room, sends and syncs, uploads and downloads media, fetches TURN
 * credentials and the client well-known (including the MatrixRTC foci), requests a LiveKit token
 * from lk-jwt-service, deactivates the user, and prints a pass/fail table. Exit code 1 on any failure.
 * The integration suite runs it against its local stack (test/integration/test_smoke.py).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type CommandSpec, parseCommandLine } from '../lib/cli';

interface Options {
  url: string;
  serverName: string;
  secretFile: string;
  wellKnownUrl: string;
  skip: Set<string>;
  timeoutMs: number;
  /** X-Forwarded-For to send: only for testing against a router without an edge in front (per-address rate limits). */
  forwardedFor?: string;
}

export const STEPS = [
  'versions',
  'register',
  'login',
  'create-room',
  'send',
  'sync',
  'media-upload',
  'media-download',
  'turn',
  'well-known',
  'lk-jwt',
  'deactivate',
] as const;
type Step = (typeof STEPS)[number];

export const SMOKE_COMMAND: CommandSpec = {
  usage: 'npm run smoke -- --url URL --server-name NAME --registration-secret-file FILE [options]',
  description:
    'Post-deployment smoke test from the client side: registers a throw-away user, logs in, creates a room, sends and syncs, uploads and downloads media, fetches TURN credentials, the client well-known and a LiveKit token, deactivates the user, and prints a pass/fail table. Exit 1 on any failure.',
  options: {
    url: { takesValue: true, help: 'client-server API base URL, e.g. https://matrix.your-domain (required)' },
    'server-name': { takesValue: true, help: 'the Matrix server name (required)' },
    'registration-secret-file': { takesValue: true, help: 'file holding registration_shared_secret (required)' },
    'well-known-url': { takesValue: true, help: 'client well-known URL (default: https://NAME/.well-known/matrix/client)' },
    skip: { takesValue: true, help: `comma-separated steps to skip (${STEPS.join(', ')})` },
    'timeout-ms': { takesValue: true, help: 'timeout of each request in milliseconds (default 30000)' },
    'forwarded-for': { takesValue: true, help: 'X-Forwarded-For to send (tests only: a router without an edge in front)' },
  },
};

function parseArgs(argv: string[]): Options {
  const { options } = parseCommandLine(argv, SMOKE_COMMAND);
  const url = options.url;
  const serverName = options['server-name'];
  const secretFile = options['registration-secret-file'];
  if (!url || !serverName || !secretFile) {
    console.error('error: --url, --server-name and --registration-secret-file are required (npm run smoke -- --help)');
    process.exit(2);
  }
  const skip = new Set((options.skip ?? '').split(',').filter(Boolean));
  for (const step of skip) {
    if (!(STEPS as readonly string[]).includes(step)) {
      console.error(`--skip: unknown step ${step} (steps: ${STEPS.join(', ')})`);
      process.exit(2);
    }
  }
  const timeoutMs = Number(options['timeout-ms'] ?? 30000);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    console.error('--timeout-ms: expected a positive whole number of milliseconds');
    process.exit(2);
  }
  return {
    url: url.replace(/\/$/, ''),
    serverName,
    secretFile,
    wellKnownUrl: options['well-known-url'] ?? `https://${serverName}/.well-known/matrix/client`,
    skip,
    timeoutMs,
    forwardedFor: options['forwarded-for'],
  };
}

class StepError extends Error {}

async function call(options: Options, method: string, url: string, init: { token?: string; json?: unknown; body?: Uint8Array; contentType?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.forwardedFor) headers['X-Forwarded-For'] = options.forwardedFor;
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  let body: RequestInit['body'];
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  } else if (init.body) {
    headers['Content-Type'] = init.contentType ?? 'application/octet-stream';
    body = init.body;
  }
  const response = await fetch(url.startsWith('http') ? url : `${options.url}${url}`, {
    method,
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (!response.ok) {
    const text = (await response.text()).slice(0, 200);
    throw new StepError(`${method} ${url.split('?')[0]} -> HTTP ${response.status} ${text}`);
  }
  return response;
}

async function json<T = Record<string, unknown>>(options: Options, method: string, url: string, init = {}): Promise<T> {
  return (await (await call(options, method, url, init)).json()) as T;
}

export async function runSmoke(options: Options): Promise<{ step: Step; status: 'PASS' | 'FAIL' | 'SKIP'; detail: string }[]> {
  const results: { step: Step; status: 'PASS' | 'FAIL' | 'SKIP'; detail: string }[] = [];
  const state: Record<string, string> = {};
  const username = `smoke-${randomBytes(5).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const payload = randomBytes(4096);
  const marker = `smoke ${randomBytes(6).toString('hex')}`;

  const steps: Record<Step, () => Promise<string>> = {
    versions: async () => {
      const body = await json<{ versions: string[] }>(options, 'GET', '/_matrix/client/versions');
      return `${body.versions.length} spec versions`;
    },
    register: async () => {
      const secret = readFileSync(options.secretFile, 'utf8').trim();
      const { nonce } = await json<{ nonce: string }>(options, 'GET', '/_synapse/admin/v1/register');
      const mac = createHmac('sha1', secret).update([nonce, username, password, 'notadmin'].join('\0')).digest('hex');
      const body = await json<{ user_id: string }>(options, 'POST', '/_synapse/admin/v1/register', {
        json: { nonce, username, password, admin: false, mac },
      });
      state.userId = body.user_id;
      return body.user_id;
    },
    login: async () => {
      const body = await json<{ access_token: string; device_id: string }>(options, 'POST', '/_matrix/client/v3/login', {
        json: { type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password },
      });
      state.token = body.access_token;
      state.deviceId = body.device_id;
      return `device ${body.device_id}`;
    },
    'create-room': async () => {
      const body = await json<{ room_id: string }>(options, 'POST', '/_matrix/client/v3/createRoom', {
        token: state.token,
        json: { preset: 'private_chat', name: 'smoke test' },
      });
      state.roomId = body.room_id;
      return body.room_id;
    },
    send: async () => {
      const txn = randomBytes(8).toString('hex');
      const body = await json<{ event_id: string }>(options, 'PUT', `/_matrix/client/v3/rooms/${encodeURIComponent(state.roomId)}/send/m.room.message/${txn}`, {
        token: state.token,
        json: { msgtype: 'm.text', body: marker },
      });
      state.eventId = body.event_id;
      return body.event_id;
    },
    sync: async () => {
      const deadline = Date.now() + options.timeoutMs;
      let since = '';
      while (Date.now() < deadline) {
        const body = await json<{ next_batch: string; rooms?: { join?: Record<string, { timeline?: { events?: { event_id: string }[] } }> } }>(
          options,
          'GET',
          `/_matrix/client/v3/sync?timeout=2000${since ? `&since=${encodeURIComponent(since)}` : ''}`,
          { token: state.token },
        );
        const events = body.rooms?.join?.[state.roomId]?.timeline?.events ?? [];
        if (events.some((event) => event.event_id === state.eventId)) return 'message seen in /sync';
        since = body.next_batch;
      }
      throw new StepError('the sent message did not appear in /sync');
    },
    'media-upload': async () => {
      const body = await json<{ content_uri: string }>(options, 'POST', '/_matrix/media/v3/upload?filename=smoke.bin', {
        token: state.token,
        body: payload,
      });
      state.contentUri = body.content_uri;
      return body.content_uri;
    },
    'media-download': async () => {
      const [server, mediaId] = state.contentUri.slice('mxc://'.length).split('/');
      const response = await call(options, 'GET', `/_matrix/client/v1/media/download/${server}/${mediaId}`, { token: state.token });
      const bytes = Buffer.from(await response.arrayBuffer());
      if (!bytes.equals(payload)) throw new StepError(`downloaded ${bytes.length} bytes differ from the ${payload.length} uploaded`);
      return `${bytes.length} bytes match`;
    },
    turn: async () => {
      const body = await json<{ uris?: string[]; username?: string; password?: string; ttl?: number }>(options, 'GET', '/_matrix/client/v3/voip/turnServer', {
        token: state.token,
      });
      if (!body.uris?.length || !body.username || !body.password) throw new StepError(`no TURN credentials: ${JSON.stringify(body).slice(0, 200)}`);
      return `${body.uris.length} URIs, ttl ${body.ttl}s`;
    },
    'well-known': async () => {
      const body = await json<Record<string, unknown>>(options, 'GET', options.wellKnownUrl);
      const homeserver = (body['m.homeserver'] as { base_url?: string } | undefined)?.base_url;
      if (!homeserver) throw new StepError('m.homeserver.base_url missing');
      const foci = (body['org.matrix.msc4143.rtc_foci'] ?? body.rtc_foci) as { type: string; livekit_service_url?: string }[] | undefined;
      const livekit = foci?.find((focus) => focus.type === 'livekit')?.livekit_service_url;
      if (!livekit) throw new StepError('no livekit entry in org.matrix.msc4143.rtc_foci');
      state.livekitServiceUrl = livekit.replace(/\/$/, '');
      return `base_url ${homeserver}, livekit ${livekit}`;
    },
    'lk-jwt': async () => {
      if (!state.livekitServiceUrl) throw new StepError('needs the well-known step (livekit_service_url)');
      const openid = await json(options, 'POST', `/_matrix/client/v3/user/${encodeURIComponent(state.userId)}/openid/request_token`, {
        token: state.token,
        json: {},
      });
      const body = await json<{ url?: string; jwt?: string }>(options, 'POST', `${state.livekitServiceUrl}/sfu/get`, {
        json: { room: state.roomId, openid_token: openid, device_id: state.deviceId },
      });
      if (!body.jwt || !body.url) throw new StepError(`no jwt/url in the reply: ${JSON.stringify(body).slice(0, 200)}`);
      return `token for ${body.url}`;
    },
    deactivate: async () => {
      await call(options, 'POST', '/_matrix/client/v3/account/deactivate', {
        token: state.token,
        json: { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password }, erase: true },
      });
      return `${state.userId} deactivated`;
    },
  };

  for (const step of STEPS) {
    if (options.skip.has(step)) {
      results.push({ step, status: 'SKIP', detail: 'skipped (--skip)' });
      continue;
    }
    try {
      results.push({ step, status: 'PASS', detail: await steps[step]() });
    } catch (error) {
      const message = error instanceof StepError ? error.message : `${(error as Error).name}: ${(error as Error).message}`;
      results.push({ step, status: 'FAIL', detail: message });
    }
  }
  return results;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const results = await runSmoke(options);
  const width = Math.max(...results.map((result) => result.step.length));
  console.log(`smoke test of ${options.url} (${options.serverName})`);
  for (const result of results) console.log(`${result.status.padEnd(4)}  ${result.step.padEnd(width)}  ${result.detail}`);
  const failed = results.filter((result) => result.status === 'FAIL').length;
  const passed = results.filter((result) => result.status === 'PASS').length;
  console.log(`${passed} passed, ${failed} failed, ${results.length - passed - failed} skipped`);
  process.exitCode = failed > 0 ? 1 : 0;
}

void main();
