// Starts a fresh behalf server for one test file.
//
// Each call gets its own temp dir (holding a new SQLite database) and its own
// free loopback port, so test files never share state. The binary is
// $BEHALF_BIN, or ../../target/debug/behalf relative to this file.

import { spawn } from 'node:child_process';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BEHALF_BIN =
  process.env.BEHALF_BIN ?? new URL('../../target/debug/behalf', import.meta.url).pathname;

const ARTIFACTS_DIR = new URL('../artifacts/', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 100;
const STOP_TIMEOUT_MS = 5_000;
const MAX_CAPTURE = 1 << 20; // keep at most 1 MiB of server output

/** Asks the kernel for a free port on 127.0.0.1: listen on port 0, read it, close. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

function capture(stream) {
  const buf = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buf.text += chunk;
    if (buf.text.length > MAX_CAPTURE) buf.text = buf.text.slice(-MAX_CAPTURE);
  });
  return buf;
}

/**
 * Starts `behalf serve` and waits until GET /readyz answers 200.
 *
 * @param {object} [opts]
 * @param {string} [opts.name] label used for the log file written to artifacts/ on stop()
 * @param {Record<string,string>} [opts.env] extra environment variables for server and CLI
 * @returns {Promise<{issuer: string, baseUrl: string, env: Record<string,string>,
 *   cli: (args: string[], opts?: {stdin?: string}) => Promise<string>, stop: () => Promise<void>}>}
 */
export async function startServer(opts = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'behalf-conformance-'));
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const issuer = baseUrl;
  const env = {
    ...process.env,
    BEHALF_DATABASE_URL: `sqlite://${dir}/behalf.db`,
    BEHALF_LISTEN: `127.0.0.1:${port}`,
    BEHALF_ISSUER: issuer,
    BEHALF_LOG: 'warn',
    ...opts.env,
  };

  const child = spawn(BEHALF_BIN, ['serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);
  let exited = null; // { code, signal } once the process is gone
  let spawnError = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.on('error', (err) => {
      spawnError = err;
      exited ??= { code: null, signal: null };
      resolve(exited);
    });
  });
  // Never leave a server behind if the test process ends abruptly.
  const killOnExit = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let stopped = false;
  async function stop() {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      // unref'd, so a prompt exit doesn't leave the test process waiting on it
      const timer = sleep(STOP_TIMEOUT_MS, 'timeout', { ref: false });
      if ((await Promise.race([exitPromise, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    process.off('exit', killOnExit);
    if (opts.name) {
      try {
        await mkdir(ARTIFACTS_DIR, { recursive: true });
        await writeFile(
          join(ARTIFACTS_DIR, `${opts.name}.server.log`),
          `# exit: ${JSON.stringify(exited)}\n# stdout\n${stdout.text}\n# stderr\n${stderr.text}`,
        );
      } catch {
        // logs are a convenience only
      }
    }
    await rm(dir, { recursive: true, force: true });
  }

  // Wait for readiness.
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastProblem = 'no answer yet';
  for (;;) {
    if (exited) {
      await stop();
      const why = spawnError ? `could not spawn ${BEHALF_BIN}: ${spawnError.message}` : `exited early (${JSON.stringify(exited)})`;
      throw new Error(`behalf serve ${why}\n--- stderr ---\n${stderr.text}\n--- stdout ---\n${stdout.text}`);
    }
    try {
      const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastProblem = `GET /readyz answered ${res.status}`;
    } catch (err) {
      lastProblem = `GET /readyz failed: ${err.cause?.code ?? err.message}`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `behalf serve was not ready after ${READY_TIMEOUT_MS / 1000}s (${lastProblem})\n--- stderr ---\n${stderr.text}`,
      );
    }
    await sleep(READY_POLL_MS);
  }

  /** Runs `behalf <args>` against the same database; resolves to stdout, throws with stderr on failure. */
  function cli(args, { stdin } = {}) {
    return new Promise((resolve, reject) => {
      const proc = spawn(BEHALF_BIN, args, { env, cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
      const out = capture(proc.stdout);
      const err = capture(proc.stderr);
      proc.on('error', (e) => reject(new Error(`could not run ${BEHALF_BIN} ${args.join(' ')}: ${e.message}`)));
      proc.on('close', (code, signal) => {
        if (code === 0) resolve(out.text);
        else
          reject(
            new Error(
              `behalf ${args.join(' ')} failed (code ${code}, signal ${signal})\n--- stderr ---\n${err.text}\n--- stdout ---\n${out.text}`,
            ),
          );
      });
      proc.stdin.on('error', () => {}); // the process may exit without reading stdin
      proc.stdin.end(stdin ?? '');
    });
  }

  return { issuer, baseUrl, env, cli, stop };
}
