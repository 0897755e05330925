// A second sign-in for the example: "viewer" (user:default/viewer), like the guest provider a proxy provider with no
// credentials of its own. For a demo and the tests only: anyone who reaches the backend may sign in as the viewer.
import { createBackendModule } from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint, createProxyAuthenticator, createProxyAuthProviderFactory } from '@backstage/plugin-auth-node';

export const VIEWER = 'user:default/viewer';

export default createBackendModule({
  pluginId: 'auth',
  moduleId: 'viewer-provider',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint },
      async init({ providers }) {
        providers.registerProvider({
          providerId: 'viewer',
          factory: createProxyAuthProviderFactory({
            authenticator: createProxyAuthenticator({
              defaultProfileTransform: async () => ({ profile: { displayName: 'Viewer' } }),
              initialize: () => undefined,
              authenticate: async () => ({ result: {} }),
            }),
            signInResolver: async (_info, ctx) => ctx.signInWithCatalogUser({ entityRef: VIEWER }),
          }),
        });
      },
    });
  },
});
