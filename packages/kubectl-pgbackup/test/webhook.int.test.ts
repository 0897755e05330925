// The failure webhook as a scheduled run uses it: `PGBACKUP_WEBHOOK_URL` set (the CronJob takes it from a Secret),
// a failing command POSTs the documented payload to a local HTTP receiver; one that hangs does not hold the run beyond its bound.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KUBECTL, MIN, createNamespace, deleteNamespace, requireClusterUp, run } from '../../../tools/cluster/test/kube.js';
import { pluginEnv } from './plugin.js';

const pgbackup = (args: string[], webhook: string) =>
  run(KUBECTL, ['pgbackup', ...args], { env: { ...pluginEnv(), PGBACKUP_WEBHOOK_URL: webhook }, timeoutMs: 2 * MIN });

/** A local HTTP server: `answer` decides what each request gets (undefined: no answer at all). */
async function receiver(answer: (req: IncomingMessage, body: string) => number | undefined) {
  const bodies: unknown[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      const status = answer(req, body);
      if (status !== undefined) res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    bodies,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('the failure webhook', () => {
  let ns = '';
  beforeAll(async () => {
    await requireClusterUp();
    ns = await createNamespace('webhook');
  }, MIN);
  afterAll(async () => {
    if (ns) await deleteNamespace(ns);
  }, 3 * MIN);

  it(
    'receives the documented payload when a backup fails',
    async () => {
      const hook = await receiver((req) => (req.method === 'POST' && req.headers['content-type'] === 'application/json' ? 204 : 400));
      try {
        const r = await pgbackup(['create', 'no-such-db', '-n', ns], hook.url);
        expect(r.code).toBe(3);
        expect(hook.bodies).toEqual([
          {
            version: 1,
            event: 'pgbackup.failure',
            command: 'create',
            namespace: ns,
            target: 'no-such-db',
            error: { message: expect.stringContaining('no-such-db'), exitCode: 3 },
            at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
            host: expect.any(String),
          },
        ]);
        expect(r.stderr).not.toMatch(/warning/);
      } finally {
        hook.close();
      }
    },
    MIN,
  );

  it(
    'a webhook that never answers costs the run at most its bound (3 attempts of 5 s, 1 s and 2 s between), and the run still fails as it should',
    async () => {
      const hook = await receiver(() => undefined);
      try {
        const started = Date.now();
        const r = await pgbackup(['create', 'no-such-db', '-n', ns], hook.url);
        const seconds = (Date.now() - started) / 1000;
        expect(r.code).toBe(3);
        expect(hook.bodies).toHaveLength(3);
        expect(r.stderr).toMatch(/warning: the failure webhook was not delivered after 3 attempt\(s\)/);
        expect(r.stderr).not.toContain(hook.url);
        process.stdout.write(`a hanging webhook: the failing run took ${seconds.toFixed(1)} s (bound 18 s plus the CLI's own time)\n`);
        expect(seconds).toBeLessThan(30);
        expect(seconds).toBeGreaterThan(15);
      } finally {
        hook.close();
      }
    },
    MIN,
  );
});
