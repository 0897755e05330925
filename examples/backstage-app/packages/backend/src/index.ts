// The example backend, as @backstage/create-app writes packages/backend/src/index.ts (trimmed to what the example needs).
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));
backend.add(import('./viewerProvider.js'));

backend.add(import('@backstage/plugin-catalog-backend'));

backend.add(import('@backstage/plugin-permission-backend'));
backend.add(import('./permissionPolicy.js'));

// pgbackup, the line of packages/backstage-backend/README.md
backend.add(import('@pgbackup/backstage-plugin-pgbackup-backend'));

backend.start();
