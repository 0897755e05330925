import { describe, expect, it } from '@jest/globals';
import type { SubjectAccessReviewer, TokenReviewer } from '@pgbackup/core';
import { world } from './__fixtures__/world.js';
import { jsonLogger } from './logger.js';
import { type Standalone, kubernetesGuard, startStandalone } from './standalone.js';

const seedBody = { databaseName: 'pg', namespace: 'db', backupType: 'manual' };

const reviewer: TokenReviewer = {
  review: async (token, audiences) =>
    token === 'sa-token'
      ? { authenticated: true, username: 'system:serviceaccount:db:backup-client', groups: ['system:serviceaccounts'], audiences }
      : token === 'other-audience'
        ? { authenticated: true, username: 'system:serviceaccount:db:backup-client', groups: ['system:serviceaccounts'], audiences: [] }
        : { authenticated: false, error: 'invalid bearer token' },
};

/** RBAC stand-in: backup-client may get, list and create backups in db, nothing else. */
const access: SubjectAccessReviewer = {
  review: async (user, check) => ({
    allowed:
      user.username === 'system:serviceaccount:db:backup-client' &&
      check.namespace === 'db' &&
      ['get', 'list', 'create'].includes(check.verb) &&
      !check.subresource,
  }),
};

async function start(env: Record<string, string>) {
  const lines: string[] = [];
  const deps = world();
  const standalone = await startStandalone({
    env: { PORT: '0', HOST: '127.0.0.1', PGBACKUP_SHUTDOWN_GRACE_SECONDS: '0', ...env },
    logger: jsonLogger('debug', (l) => lines.push(l)),
    cluster: { name: 'fake', deps, defaultNamespace: 'db' },
    tokenReviewer: reviewer,
    accessReviewer: access,
  });
  return { standalone, deps, lines };
}

const post = (s: Standalone, token?: string) =>
  fetch(`${s.url}/backup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(seedBody),
  });

describe('standalone server', () => {
  it('authenticates every request but the probes and the document with TokenReview for its audience, then asks RBAC', async () => {
    const { standalone, lines } = await start({});
    try {
      expect((await fetch(`${standalone.url}/health/live`)).status).toBe(200);
      expect((await fetch(`${standalone.url}/openapi.json`)).status).toBe(200);
      const anonymous = await fetch(`${standalone.url}/backups?namespace=db`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('content-type')).toMatch(/problem\+json/);
      expect(((await anonymous.json()) as { hint: string }).hint).toMatch(/kubectl create token SERVICEACCOUNT --audience pgbackup/);
      expect((await post(standalone, 'garbage')).status).toBe(401);
      const wrongAudience = await post(standalone, 'other-audience');
      expect(wrongAudience.status).toBe(401);
      expect(((await wrongAudience.json()) as { detail: string }).detail).toMatch(/not for audience pgbackup/);
      const get = (path: string) => fetch(`${standalone.url}${path}`, { headers: { authorization: 'Bearer sa-token' } });
      expect((await get('/backups?namespace=db')).status).toBe(200);
      const elsewhere = await get('/backups?namespace=web');
      expect(elsewhere.status).toBe(403);
      expect(((await elsewhere.json()) as { detail: string }).detail).toBe(
        'system:serviceaccount:db:backup-client may not list backups.pgbackup.io in namespace web',
      );
      expect((await get('/backups')).status).toBe(403); // every namespace
      expect((await post(standalone, 'sa-token')).status).toBe(202);
    } finally {
      await standalone.close();
    }
    const parsed = lines.map((l) => JSON.parse(l) as { msg: string; principal?: string; audit?: string });
    expect(parsed.find((l) => l.audit === 'backup-create')?.principal).toBe('system:serviceaccount:db:backup-client');
    expect(parsed.some((l) => /serving plain HTTP/.test(l.msg))).toBe(true);
    expect(lines.join('\n')).not.toMatch(/sa-token|garbage/);
  });

  it('accepts static tokens only in the explicit development mode, with a warning', async () => {
    await expect(start({ PGBACKUP_AUTH: 'static-token' })).rejects.toThrow(/needs PGBACKUP_API_TOKEN/);
    const { standalone, deps, lines } = await start({ PGBACKUP_AUTH: 'static-token', PGBACKUP_API_TOKEN: 's3cret' });
    try {
      expect((await fetch(`${standalone.url}/backups`)).status).toBe(401);
      expect((await post(standalone, 'wrong')).status).toBe(401);
      expect((await post(standalone, 's3cret')).status).toBe(202);
      expect(lines.some((l) => JSON.parse(l).level === 'warn' && /development mode/.test(JSON.parse(l).msg))).toBe(true);
    } finally {
      await standalone.close();
    }
    // Shutdown interrupted the backup still waiting for its cut: recorded as failed, lock and session released.
    expect(deps.snapshots.all()[0]?.annotations['pgbackup.io/phase']).toBe('failed');
    expect(deps.lock.grants.every((g) => g.released)).toBe(true);
    expect(deps.database.openSessions).toHaveLength(0);
  });

  it('refuses to start on settings that would guard differently than they say', async () => {
    await expect(start({ PGBACKUP_INSECURE_WRITES: 'true' })).rejects.toThrow(/no longer supported/);
    await expect(start({ PGBACKUP_ALLOWED_SUBJECTS: 'x' })).rejects.toThrow(/RBAC/);
    await expect(start({ PGBACKUP_AUTH: 'none' })).rejects.toThrow(/token-review or static-token/);
    await expect(start({ PGBACKUP_TLS_CERT_FILE: '/nonexistent' })).rejects.toThrow(/go together/);
    await expect(start({ PGBACKUP_TOKEN_AUDIENCE: ' ' })).rejects.toThrow(/PGBACKUP_TOKEN_AUDIENCE must not be empty/);
  });

  it('keeps TokenReview answers briefly and at most 1000 of them, the oldest dropped first', async () => {
    const reviewed: string[] = [];
    const counting: TokenReviewer = {
      review: async (token, audiences) => {
        reviewed.push(token);
        return { authenticated: true, username: `user-${token}`, audiences };
      },
    };
    const request = (token: string) => ({ get: () => `Bearer ${token}` }) as never;
    const guard = kubernetesGuard(counting, access, { audience: 'pgbackup', cacheSeconds: 60 });
    for (let i = 0; i <= 1000; i++) await guard.authenticate(request(`t${i}`));
    await guard.authenticate(request('t1000'));
    expect(reviewed).toHaveLength(1001);
    await guard.authenticate(request('t0'));
    expect(reviewed.slice(1001)).toEqual(['t0']);
    const uncached = kubernetesGuard(counting, access, { audience: 'pgbackup', cacheSeconds: 0 });
    await uncached.authenticate(request('t1'));
    await uncached.authenticate(request('t1'));
    expect(reviewed.slice(1002)).toEqual(['t1', 't1']);
  });

  it('logs one JSON object per line and fails readiness while shutting down', async () => {
    const { standalone, lines } = await start({});
    await fetch(`${standalone.url}/health/live`);
    const closing = standalone.close();
    await closing;
    const parsed = lines.map((l) => JSON.parse(l) as { level: string; time: string; msg: string });
    expect(parsed.every((l) => l.level && l.time && typeof l.msg === 'string')).toBe(true);
    expect(parsed.some((l) => l.msg === 'request')).toBe(true);
    expect(parsed.at(-1)?.msg).toBe('stopped');
  });
});
