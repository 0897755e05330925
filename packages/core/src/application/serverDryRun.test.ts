import { describe, expect, it } from '@jest/globals';
import { invalid } from '../errors.js';
import { FakeServerDryRun } from '../testing/fakes.js';
import { refObject, serverDryRun } from './serverDryRun.js';

const claim = (name: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'db' } });

describe('serverDryRun', () => {
  it('asks the API server for each delete, then each create, and returns what it answered', async () => {
    const deps = { serverDryRun: new FakeServerDryRun() };
    const answered = await serverDryRun(deps, {
      delete: [refObject({ kind: 'Service', namespace: 'db', name: 'old' })],
      create: [claim('data-a-0'), claim('data-b-0')],
    });
    expect(deps.serverDryRun.requests).toEqual([
      'delete Service/old',
      'create PersistentVolumeClaim/data-a-0',
      'create PersistentVolumeClaim/data-b-0',
    ]);
    expect(answered.map((o) => o.metadata.name)).toEqual(['data-a-0', 'data-b-0']);
  });

  it('checks a replaced object by its delete only (in a dry run the old one stays, so its create would be refused)', async () => {
    const deps = { serverDryRun: new FakeServerDryRun() };
    await serverDryRun(deps, {
      delete: [refObject({ kind: 'PersistentVolumeClaim', namespace: 'db', name: 'data-pg-0' })],
      create: [claim('data-pg-0')],
    });
    expect(deps.serverDryRun.requests).toEqual(['delete PersistentVolumeClaim/data-pg-0']);
  });

  it("stops at the API server's first refusal", async () => {
    const deps = { serverDryRun: new FakeServerDryRun() };
    deps.serverDryRun.refuse = (o) => (o.metadata.name === 'data-a-0' ? invalid('denied') : undefined);
    await expect(serverDryRun(deps, { create: [claim('data-a-0'), claim('data-b-0')] })).rejects.toThrow('denied');
    expect(deps.serverDryRun.requests).toEqual(['create PersistentVolumeClaim/data-a-0']);
  });

  it('names the API version of each kind a restore plan deletes', () => {
    expect(refObject({ kind: 'StatefulSet', namespace: 'db', name: 'pg' })).toEqual({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'pg', namespace: 'db' },
    });
    expect(refObject({ kind: 'VolumeSnapshotContent', namespace: '', name: 'c' })).toEqual({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshotContent',
      metadata: { name: 'c' },
    });
  });
});
