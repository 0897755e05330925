import { describe, expect, it } from '@jest/globals';
import type { TokenReviewer } from '@pgbackup/core';
import { world } from './__fixtures__/world.js';
import { jsonLogger } from './logger.js';
import { type Standalone, startStandalone } from './standalone.js';

const seedBody = { databaseName: 'pg', namespace: 'db', backupType: 'manual' };

const reviewer: TokenReviewer = {
  review: async (token) =>
    token === 'sa-token'
      ? { authenticated: true, username: 'system:serviceaccount:db:backup-client', groups: ['system:serviceaccounts'] }
      : token === 'other-sa'
        ? { authenticated: true, username: 'system:serviceaccount:web:frontend', groups: ['system:serviceaccounts'] }
        : { authenticated: false, error: 'invalid bearer token' },
};

async function start(env: Record<string, string>) {
  const lines: string[] = [];
  const deps = world();
  const standalone = await startStandalone({
    env: { PORT: '0', HOST: '127.0.0.1', PGBACKUP_SHUTDOWN_GRACE_SECONDS: '0', ...env },
    logger: jsonLogger('debug', (l) => lines.push(l)),
    cluster: { name: 'fake', deps, defaultNamespace: 'db' },
    tokenReviewer: reviewer,
  });
  return { standalone, deps, lines };
}

const post = (s: Standalone, token?: string) =>
  fetch(`${s.url}/backup`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(seedBody) });

describe('standalone server', () => {
  it('needs the static bearer token for writes, not for reads', async () => {
    const { standalone, deps } = await start({ PGBACKUP_API_TOKEN: 's3cret' });
    try {
      expect((await fetch(`${standalone.url}/backups`)).status).toBe(200);
      const missing = await post(standalone);
      expect(missing.status).toBe(401);
      expect(missing.headers.get('content-type')).toMatch(/problem\+json/);
      expect((await post(standalone, 'wrong')).status).toBe(401);
      expect((await post(standalone, 's3cret')).status).toBe(202);
    } finally {
      await standalone.close();
    }
    // Shutdown interrupted the backup still waiting for its cut: recorded as failed, lock and session released.
    expect(deps.snapshots.all()[0]?.annotations['pgbackup.io/phase']).toBe('failed');
    expect(deps.lock.grants.every((g) => g.released)).toBe(true);
    expect(deps.database.openSessions).toHaveLength(0);
  });

  it('accepts ServiceAccount tokens through TokenReview, limited to the allowed subjects', async () => {
    const { standalone } = await start({ PGBACKUP_TOKEN_REVIEW: 'true', PGBACKUP_ALLOWED_SUBJECTS: 'system:serviceaccount:db:backup-client' });
    try {
      expect((await post(standalone, 'garbage')).status).toBe(401);
      const denied = await post(standalone, 'other-sa');
      expect(denied.status).toBe(403);
      expect(((await denied.json()) as { detail: string }).detail).toMatch(/system:serviceaccount:web:frontend may not create/);
      expect((await post(standalone, 'sa-token')).status).toBe(202);
    } finally {
      await standalone.close();
    }
  });

  it('refuses every write when no token mechanism is configured', async () => {
    const { standalone, lines } = await start({});
    try {
      expect((await post(standalone, 'anything')).status).toBe(401);
      expect(lines.some((l) => JSON.parse(l).level === 'warn' && /every write will be refused/.test(JSON.parse(l).msg))).toBe(true);
    } finally {
      await standalone.close();
    }
  });

  it('logs one JSON object per line and fails readiness while shutting down', async () => {
    const { standalone, lines } = await start({ PGBACKUP_INSECURE_WRITES: 'true' });
    await fetch(`${standalone.url}/health/live`);
    const closing = standalone.close();
    await closing;
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; time: string; msg: string });
    expect(parsed.every((l) => l.level && l.time && typeof l.msg === 'string')).toBe(true);
    expect(parsed.some((l) => l.msg === 'request')).toBe(true);
    expect(parsed.at(-1)?.msg).toBe('stopped');
  });
});
