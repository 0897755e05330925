import { describe, expect, it } from '@jest/globals';
import { selectSnapshotClass } from '../domain/snapshotClass.js';
import { toGroupSnapshotClassInfo } from './groupSnapshots.js';

const groupClass = (name: string, annotations?: Record<string, string>) => ({
  metadata: { name, annotations },
  driver: 'csi.example.com',
  deletionPolicy: 'Delete',
});

describe('VolumeGroupSnapshotClasses as read from the API', () => {
  it('two classes for one driver: the one annotated groupsnapshot.storage.kubernetes.io/is-default-class is chosen', () => {
    const classes = [
      groupClass('fast'),
      groupClass('standard', { 'groupsnapshot.storage.kubernetes.io/is-default-class': 'true' }),
      // The API group's spelling is not the annotation's: it does not make a class default.
      groupClass('misannotated', { 'groupsnapshot.storage.k8s.io/is-default-class': 'true' }),
    ].map(toGroupSnapshotClassInfo);
    expect(classes.map((c) => c.isDefault)).toEqual([false, true, false]);
    expect(selectSnapshotClass(classes, 'csi.example.com', undefined, 'VolumeGroupSnapshotClass').name).toBe('standard');
  });
});
