'use strict';
/**
 * `npm test [-- jest arguments]`: the type check (`tsc --noEmit`) and jest side by side. jest leaves cores
 * idle while suites wait for real programs (haproxy, promtool, redis-server, coturn, LiveKit), and the
 * type check fills those gaps instead of running before everything else. tsc runs at a lower priority so
 * the timing-sensitive suites keep their CPU; its output is printed after jest's. Fails when either fails.
 */
const { spawn } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const node = process.execPath;

function run(args, { onSpawn, ...options }) {
  return new Promise((resolve) => {
    const child = spawn(node, args, { cwd: root, ...options });
    let output = '';
    if (child.stdout) child.stdout.on('data', (chunk) => (output += chunk));
    if (child.stderr) child.stderr.on('data', (chunk) => (output += chunk));
    child.on('spawn', () => onSpawn?.(child.pid));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

async function main() {
  const typeCheck = run(
    [require.resolve('typescript/bin/tsc'), '--noEmit', '--incremental', '--tsBuildInfoFile', path.join(root, '.build', 'tsc.tsbuildinfo')],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      onSpawn: (pid) => {
        try {
          os.setPriority(pid, 10);
        } catch {
          // Not permitted everywhere; the check still runs.
        }
      },
    },
  );
  const jest = run([require.resolve('jest/bin/jest'), ...process.argv.slice(2)], { stdio: 'inherit' });
  const [types, tests] = await Promise.all([typeCheck, jest]);
  if (types.code !== 0) {
    process.stderr.write(types.output);
    console.error('type check (tsc --noEmit) failed');
  } else {
    console.error('type check (tsc --noEmit) passed');
  }
  process.exitCode = types.code !== 0 ? types.code : tests.code;
}

main();
