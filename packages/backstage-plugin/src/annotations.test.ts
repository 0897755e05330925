import { entity, entityWithoutAnnotations } from './__fixtures__/index.js';
import { isPgBackupAvailable, missingAnnotations, statefulSetOf } from './annotations.js';

describe('annotations', () => {
  it('is available with a StatefulSet, in the namespace of backstage.io/kubernetes-namespace', () => {
    expect(isPgBackupAvailable(entity)).toBe(true);
    expect(statefulSetOf(entity)).toEqual({ name: 'orders-db', namespace: 'shop' });
  });

  it('needs no backstage.io/kubernetes-id: the StatefulSet is found by name, in namespace default by default', () => {
    const e = { ...entity, metadata: { name: 'x', annotations: { 'pgbackup.io/statefulset': 'x-db' } } };
    expect(isPgBackupAvailable(e)).toBe(true);
    expect(statefulSetOf(e)).toEqual({ name: 'x-db', namespace: 'default' });
  });

  it('is not available without the StatefulSet, and says which annotation is missing', () => {
    expect(isPgBackupAvailable(entityWithoutAnnotations)).toBe(false);
    expect(missingAnnotations(entityWithoutAnnotations)).toEqual(['pgbackup.io/statefulset']);
  });

  it('passes the optional cluster annotation on', () => {
    const e = {
      ...entity,
      metadata: { ...entity.metadata, annotations: { ...entity.metadata.annotations, 'pgbackup.io/cluster': 'prod' } },
    };
    expect(statefulSetOf(e)?.cluster).toBe('prod');
  });
});
