// The example frontend, as in packages/backstage-plugin/README.md ("New frontend system"), plus the catalog and a sign-in page.
import { createApp } from '@backstage/frontend-defaults';
import catalogPlugin from '@backstage/plugin-catalog/alpha';
import pgBackupPlugin from '@pgbackup/backstage-plugin-pgbackup/alpha';
import { signInModule } from './SignIn.js';

export default createApp({ features: [catalogPlugin, pgBackupPlugin, signInModule] });
