// Starts behalf servers for one test file: `startServer`, one instance on a
// new SQLite database; `startPostgresPair`, two instances sharing a new
// PostgreSQL database, as a deployment of several instances runs.
//
// Each server gets its own temp dir and free loopback ports, each pair its
// own database (created, and dropped on stop), so test files never share
// state. The binary is $BEHALF_BIN, or ../../target/debug/behalf relative to
// this file; PostgreSQL is $BEHALF_TEST_POSTGRES_URL, or
// postgres://postgres@127.0.0.1:5432, reached with `psql`.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const BEHALF_BIN =
  process.env.BEHALF_BIN ?? new URL('../../target/debug/behalf', import.meta.url).pathname;
export const POSTGRES_URL = process.env.BEHALF_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

const ARTIFACTS_DIR = new URL('../artifacts/', import.meta.url).pathname;
const READY_TIMEOUT_MS = 20_000;
const READY_POLL_MS = 100;
const STOP_TIMEOUT_MS = 5_000;
const PSQL_CONNECT_TIMEOUT_S = '5';
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
 * @param {number} [opts.port] the loopback port to listen on (from freePort), when the test must know the
 *   issuer before the server starts (e.g. to register behalf's redirect URI at a fake IdP)
 * @returns {Promise<{issuer: string, baseUrl: string, env: Record<string,string>,
 *   cli: (args: string[], opts?: {stdin?: string}) => Promise<string>,
 *   output: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(opts = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'behalf-conformance-'));
  const port = opts.port ?? (await freePort());
  const baseUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    BEHALF_DATABASE_URL: `sqlite://${dir}/behalf.db`,
    BEHALF_LISTEN: `127.0.0.1:${port}`,
    BEHALF_ISSUER: baseUrl,
    BEHALF_LOG: 'warn',
    ...opts.env,
  };
  let serve;
  try {
    serve = await serveUntilReady(env, dir, baseUrl, opts.name);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  async function stop() {
    await serve.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return { issuer: baseUrl, baseUrl, env, cli: cliFor(env, dir), output: serve.output, stop };
}

/**
 * Two `behalf serve` instances, A and B, on one new PostgreSQL database
 * (`behalf_conf_<random>`), as docs/contract.md asks of instances sharing
 * one: the same `BEHALF_KEY_ENCRYPTION_KEY` and the same `BEHALF_ISSUER`,
 * here B's address (an issuer is one identity: an app trusts one, and the
 * `iss` of every token, sign-in link and logout token must be it, whichever
 * instance made it). `behalf migrate` runs once, then A starts, then B.
 * Fails, never skips, when PostgreSQL cannot be reached.
 *
 * @param {object} [opts]
 * @param {string} [opts.name] the instances' logs are artifacts/NAME.a.server.log and NAME.b.server.log
 * @param {Record<string,string>} [opts.env] extra environment variables for both instances and the CLI
 * @returns {Promise<{issuer: string, database: string, a: object, b: object,
 *   cli: (args: string[], opts?: {stdin?: string}) => Promise<string>, stop: () => Promise<void>}>}
 *   `a` and `b` have the shape `startServer` returns, `baseUrl` each its own.
 */
export async function startPostgresPair(opts = {}) {
  await reachPostgres();
  const database = `behalf_conf_${randomBytes(6).toString('hex')}`;
  await psql('postgres', `CREATE DATABASE ${database}`);
  const dir = await mkdtemp(join(tmpdir(), 'behalf-conformance-'));
  const [portA, portB] = await twoFreePorts();
  const issuer = `http://127.0.0.1:${portB}`;
  const shared = {
    ...process.env,
    BEHALF_DATABASE_URL: postgresUrl(database),
    BEHALF_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    BEHALF_ISSUER: issuer,
    BEHALF_LOG: 'warn',
    ...opts.env,
  };
  const cli = cliFor(shared, dir);
  const instances = [];
  async function stop() {
    for (const instance of instances) await instance.stop();
    await psql('postgres', `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await rm(dir, { recursive: true, force: true });
  }
  try {
    await cli(['migrate']);
    for (const [label, port] of [['a', portA], ['b', portB]]) {
      const baseUrl = `http://127.0.0.1:${port}`;
      const env = { ...shared, BEHALF_LISTEN: `127.0.0.1:${port}` };
      const name = opts.name && `${opts.name}.${label}`;
      const serve = await serveUntilReady(env, dir, baseUrl, name);
      instances.push({ issuer, baseUrl, env, cli, output: serve.output, stop: serve.stop });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const [a, b] = instances;
  return { issuer, database, a, b, cli, stop };
}

/** `postgres://…/<database>`: $BEHALF_TEST_POSTGRES_URL (or the default) naming that database. */
function postgresUrl(database) {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.href;
}

/** Runs one SQL statement with psql on `database`; resolves to its output, rejects with psql's message. */
function psql(database, sql) {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', postgresUrl(database), '-c', sql];
  const env = { ...process.env, PGCONNECT_TIMEOUT: PSQL_CONNECT_TIMEOUT_S };
  return new Promise((resolve, reject) => {
    execFile('psql', args, { env }, (err, stdout, stderr) => {
      if (err) reject(new Error(`psql -c "${sql}": ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

async function reachPostgres() {
  try {
    await psql('postgres', 'SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${POSTGRES_URL}: the PostgreSQL tests need it ` +
        `(start it, or set BEHALF_TEST_POSTGRES_URL to a server whose role may create databases)\n${err.message}`,
    );
  }
}

async function twoFreePorts() {
  const first = await freePort();
  for (;;) {
    const second = await freePort();
    if (second !== first) return [first, second];
  }
}

/**
 * Spawns `behalf serve` with `env` in `dir` and waits for GET `baseUrl`/readyz
 * to answer 200; throws with the server's output when it does not. `stop()`
 * ends it and, given a `name`, writes its output to artifacts/NAME.server.log.
 */
async function serveUntilReady(env, dir, baseUrl, name) {
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
    if (name) {
      try {
        await mkdir(ARTIFACTS_DIR, { recursive: true });
        await writeFile(
          join(ARTIFACTS_DIR, `${name}.server.log`),
          `# exit: ${JSON.stringify(exited)}\n# stdout\n${stdout.text}\n# stderr\n${stderr.text}`,
        );
      } catch {
        // logs are a convenience only
      }
    }
  }

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
  return { stop, output: () => `${stdout.text}${stderr.text}` };
}

/** `cli(args)` runs `behalf <args>` with `env` (so on the same database); resolves to stdout, throws with stderr on failure. */
function cliFor(env, dir) {
  return function cli(args, { stdin } = {}) {
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
  };
}
