// The default VolumeGroupSnapshotClass of a driver, as the real API server serves it: two classes for one
// driver, only one annotated default, and the product's group-snapshot store plus class choice pick that one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { GroupSnapshotStorage, kubernetesDeps, loadKubeConfig } from '@pgbackup/core';
import { KUBECONFIG, k, kubectl, requireClusterUp } from '../../../tools/cluster/test/kube.js';
import { selectSnapshotClass } from '../src/domain/snapshotClass.js';

// A driver of this test's own, so the classes change no other test's choice.
const suffix = randomBytes(3).toString('hex');
const driver = `classes-${suffix}.test.local`;
const names = { chosen: `default-${suffix}`, other: `other-${suffix}` };

const groupClass = (name: string, isDefault: boolean) => `apiVersion: ${GroupSnapshotStorage.group}/v1
kind: VolumeGroupSnapshotClass
metadata:
  name: ${name}
  annotations: {${isDefault ? `${GroupSnapshotStorage.isDefaultClass}: "true"` : ''}}
driver: ${driver}
deletionPolicy: Delete
`;

describe('VolumeGroupSnapshotClasses on the local cluster', () => {
  beforeAll(async () => {
    await requireClusterUp();
    await k(['apply', '-f', '-'], { input: [groupClass(names.other, false), groupClass(names.chosen, true)].join('---\n') });
  });
  afterAll(async () => {
    await kubectl(['delete', 'volumegroupsnapshotclass', names.chosen, names.other, '--ignore-not-found']);
  });

  it('two classes for one driver, one annotated default: that one is recognised and chosen', async () => {
    const deps = kubernetesDeps(loadKubeConfig({ kubeconfig: KUBECONFIG }));
    const classes = (await deps.groups.listClasses()).filter((c) => c.driver === driver);
    expect(classes.map((c) => [c.name, c.isDefault]).sort()).toEqual([
      [names.chosen, true],
      [names.other, false],
    ]);
    expect(selectSnapshotClass(classes, driver, undefined, 'VolumeGroupSnapshotClass').name).toBe(names.chosen);
  });
});
