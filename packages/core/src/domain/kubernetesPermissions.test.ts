import { describe, expect, it } from '@jest/globals';
import { PERMISSIONS, VERIFY_PERMISSIONS, rbacRules } from './kubernetesPermissions.js';

const namespaced = PERMISSIONS.filter((p) => !p.clusterScoped);
const rulesFor = (resource: string, rules = rbacRules(namespaced, 'orders-db')) => rules.filter((r) => r.resources.includes(resource));

describe('rbacRules', () => {
  it('a Role for one StatefulSet may exec only into its pods (ordinals 0-9)', () => {
    expect(rulesFor('pods/exec')).toEqual([
      {
        apiGroups: [''],
        resources: ['pods/exec'],
        resourceNames: Array.from({ length: 10 }, (_, i) => `orders-db-${i}`),
        verbs: ['create', 'get'],
      },
    ]);
  });

  it('and touch only its Lease, except the create a name cannot limit', () => {
    expect(rulesFor('leases')).toEqual([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        resourceNames: ['pgbackup-orders-db'],
        verbs: ['get', 'update', 'delete'],
      },
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
    ]);
  });

  it('names nothing else, and nothing at all without a StatefulSet (the API serves every one of its namespace)', () => {
    expect(
      rbacRules(namespaced, 'orders-db')
        .filter((r) => r.resourceNames)
        .map((r) => r.resources[0]),
    ).toEqual(['pods/exec', 'leases']);
    expect(rbacRules(namespaced).filter((r) => r.resourceNames)).toEqual([]);
  });

  it('a verifying Role may exec into its scratch pod, whose name is random: that rule names no pod', () => {
    expect(rulesFor('pods/exec', rbacRules(VERIFY_PERMISSIONS, 'orders-db'))).toEqual([
      { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
    ]);
  });
});
