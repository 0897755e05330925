// The example's permission policy: the viewer may read backups but not start (or delete, restore, verify) them;
// everyone else may do everything.
import { createBackendModule } from '@backstage/backend-plugin-api';
import { AuthorizeResult, type PolicyDecision } from '@backstage/plugin-permission-common';
import type { PermissionPolicy, PolicyQuery, PolicyQueryUser } from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { entityPermissions, namespacePermissions, pgbackupPermissions } from '@pgbackup/core/permissions';
import { VIEWER } from './viewerProvider.js';

const readOnly = new Set([entityPermissions.read.name, namespacePermissions.read.name]);
const pgbackup = new Set(pgbackupPermissions.map((p) => p.name));

class ExamplePolicy implements PermissionPolicy {
  async handle(request: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    const name = request.permission.name;
    if (user?.info.userEntityRef === VIEWER && pgbackup.has(name) && !readOnly.has(name)) return { result: AuthorizeResult.DENY };
    return { result: AuthorizeResult.ALLOW };
  }
}

export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'example-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint },
      async init({ policy }) {
        policy.setPolicy(new ExamplePolicy());
      },
    });
  },
});
