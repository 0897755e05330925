import { entity, entityWithoutAnnotations } from './__fixtures__/index.js';
import { annotationYaml, isPgBackupAvailable, missingAnnotations, statefulSetOf } from './annotations.js';

describe('annotations', () => {
  it('is available with a StatefulSet and a Kubernetes id', () => {
    expect(isPgBackupAvailable(entity)).toBe(true);
    expect(statefulSetOf(entity)).toEqual({ name: 'orders-db', namespace: 'shop' });
  });

  it('accepts a label selector in place of the Kubernetes id', () => {
    const e = {
      ...entity,
      metadata: { name: 'x', annotations: { 'backstage.io/kubernetes-label-selector': 'app=x', 'pgbackup.io/statefulset': 'x-db' } },
    };
    expect(isPgBackupAvailable(e)).toBe(true);
    expect(statefulSetOf(e)).toEqual({ name: 'x-db', namespace: 'default' });
  });

  it('is not available without the StatefulSet, and says which annotation is missing', () => {
    expect(isPgBackupAvailable(entityWithoutAnnotations)).toBe(false);
    expect(missingAnnotations(entityWithoutAnnotations)).toEqual(['pgbackup.io/statefulset']);
    expect(annotationYaml(entityWithoutAnnotations)).toContain('pgbackup.io/statefulset: billing-postgres');
  });

  it('passes the optional cluster annotation on', () => {
    const e = {
      ...entity,
      metadata: { ...entity.metadata, annotations: { ...entity.metadata.annotations, 'pgbackup.io/cluster': 'prod' } },
    };
    expect(statefulSetOf(e)?.cluster).toBe('prod');
  });
});
