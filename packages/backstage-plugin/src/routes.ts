import { createRouteRef } from '@backstage/core-plugin-api';

export const rootRouteRef = createRouteRef({ id: 'pgbackup' });

/** The fleet page: every database the reader may see. */
export const fleetRouteRef = createRouteRef({ id: 'pgbackup-fleet' });
