import { jest } from '@jest/globals';
import { backup, status } from '../__fixtures__/index.js';
import { PgBackupClient } from './PgBackupClient.js';
import { PgBackupApiError } from './types.js';

const asResource = (b: ReturnType<typeof backup>) => ({
  ...b,
  databaseName: b.statefulSet,
  backupType: b.type,
  isCompleted: b.status === 'completed',
  isFailed: b.status === 'failed',
  snapshotReady: true,
});
const resource = (id: string) => {
  const b = backup({ id });
  return { ...b, databaseName: b.statefulSet, backupType: b.type, isCompleted: true, isFailed: false, snapshotReady: true };
};

function client(answer: (url: string, init: RequestInit) => Response | Promise<Response>, addressing?: 'entity' | 'statefulset') {
  const fetch = jest.fn(async (url: string, init: RequestInit) => answer(url, init));
  const c = new PgBackupClient({
    discoveryApi: { getBaseUrl: async (id: string) => `http://backstage/api/${id}` },
    fetchApi: { fetch: fetch as unknown as typeof globalThis.fetch },
    addressing,
  });
  return { c, fetch };
}

// jsdom has no fetch Response: the client only reads these members.
const json = (body: unknown, init: { status?: number; headers?: Record<string, string> } = {}) => {
  const status = init.status ?? 200;
  return { ok: status >= 200 && status < 300, status, statusText: '', text: async () => JSON.stringify(body) } as unknown as Response;
};

const entity = { kind: 'Component', namespace: 'default', name: 'orders' };
const target = { name: 'orders-db', namespace: 'shop' };

describe('PgBackupClient', () => {
  it('reads an entity through the entity route and parses it with core schemas', async () => {
    const { c, fetch } = client(() =>
      json({
        entityRef: 'component:default/orders',
        cluster: 'local',
        namespace: 'shop',
        statefulSet: 'orders-db',
        status: { ...status(), newestBackup: asResource(backup({ id: 'orders-db-1' })), newestCompletedBackup: undefined },
        backups: [resource('orders-db-1')],
        errors: [],
      }),
    );
    const r = await c.getEntityBackups(entity, target);
    expect(fetch.mock.calls[0]![0]).toBe('http://backstage/api/pgbackup/entity/component/default/orders');
    expect(r.backups.map((b) => b.id)).toEqual(['orders-db-1']);
    expect(r.status?.name).toBe('orders-db');
  });

  it('reads the StatefulSet routes of the standalone server, and keeps a failing part as an error', async () => {
    const { c, fetch } = client(
      (url) =>
        url.includes('/status')
          ? json({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'StatefulSet shop/orders-db not found' }, { status: 404 })
          : json({ items: [resource('orders-db-1')], total: 1 }),
      'statefulset',
    );
    const r = await c.getEntityBackups(entity, target);
    expect(fetch.mock.calls.map((x) => x[0]).sort()).toEqual([
      'http://backstage/api/pgbackup/backup/statefulset/orders-db/status?namespace=shop',
      'http://backstage/api/pgbackup/backups?namespace=shop&statefulset=orders-db&limit=500',
    ]);
    expect(r.status).toBeUndefined();
    expect(r.errors).toEqual([{ part: 'statefulset', status: 404, detail: 'StatefulSet shop/orders-db not found' }]);
    expect(r.backups).toHaveLength(1);
  });

  it('starts a backup on the entity with an Idempotency-Key', async () => {
    const { c, fetch } = client(() => json(resource('orders-db-2'), { status: 202 }));
    const b = await c.createBackup(entity, target);
    expect(b.id).toBe('orders-db-2');
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('http://backstage/api/pgbackup/entity/component/default/orders/backups');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['idempotency-key']).toMatch(/.+/);
  });

  it("starts a backup with the seed's body on the standalone server", async () => {
    const { c, fetch } = client(() => json(resource('orders-db-2'), { status: 202 }), 'statefulset');
    await c.createBackup(entity, target);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('http://backstage/api/pgbackup/backup');
    expect(JSON.parse(init.body as string)).toEqual({ databaseName: 'orders-db', namespace: 'shop', backupType: 'manual' });
  });

  it('turns a problem+json answer into an error carrying its detail and hint', async () => {
    const { c } = client(() =>
      json(
        {
          type: 'https://pgbackup.io/problems/conflict',
          title: 'Conflict',
          status: 409,
          detail: 'a backup is already running',
          hint: 'wait for it',
        },
        { status: 409, headers: { 'content-type': 'application/problem+json' } },
      ),
    );
    const e = (await c.createBackup(entity, target).catch((x: unknown) => x)) as PgBackupApiError;
    expect(e).toBeInstanceOf(PgBackupApiError);
    expect(e.status).toBe(409);
    expect(e.message).toBe('a backup is already running');
    expect(e.hint).toBe('wait for it');
  });

  it("words a hint that names only request fields in the portal's words, never as CLI flags", async () => {
    const { c } = client(() =>
      json(
        {
          type: 'https://pgbackup.io/problems/unavailable',
          title: 'Service Unavailable',
          status: 503,
          detail: 'no primary found',
          options: [{ option: 'pod' }, { option: 'method', omit: true }],
        },
        { status: 503, headers: { 'content-type': 'application/problem+json' } },
      ),
    );
    const e = (await c.createBackup(entity, target).catch((x: unknown) => x)) as PgBackupApiError;
    expect(e.hint).toBe('retry with pod or without method');
    expect(e.hint).not.toMatch(/--/);
  });

  it("reads Backstage's own error body (e.g. 401 before the router)", async () => {
    const { c } = client(() => json({ error: { name: 'AuthenticationError', message: 'Missing credentials' } }, { status: 401 }));
    await expect(c.getBackup('orders-db-1', target)).rejects.toThrow('Missing credentials');
  });

  it('says which field it did not understand when the body does not match the schema', async () => {
    const { c } = client(() => json({ id: 'x' }));
    await expect(c.getBackup('x', target)).rejects.toThrow(/backup this plugin does not understand \(namespace: /);
  });

  it('says the API is unreachable when fetch fails', async () => {
    const { c } = client(() => {
      throw new TypeError('Failed to fetch');
    });
    await expect(c.getBackup('x', target)).rejects.toThrow(/Could not reach the pgbackup API .*Failed to fetch/);
  });
});
