import { coreExtensionData } from '@backstage/frontend-plugin-api';
import { createExtensionTester, renderInTestApp } from '@backstage/frontend-test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { EntityCardBlueprint, EntityContentBlueprint } from '@backstage/plugin-catalog-react/alpha';
import { screen } from '@testing-library/react';
import { entity, entityWithoutAnnotations, FakePgBackupApi } from './__fixtures__/index.js';
import plugin, { pgBackupEntityCard, pgBackupEntityContent, pgBackupFleetPage } from './alpha.js';
import { pgBackupApiRef } from './api/types.js';

describe('new frontend system', () => {
  it('is the pgbackup plugin with an API, an entity tab and an entity card', () => {
    expect(plugin.pluginId).toBe('pgbackup');
  });

  it('shows the tab at /backups only on entities with the annotations', () => {
    const tester = createExtensionTester(pgBackupEntityContent);
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe('Backups');
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(filter(entity)).toBe(true);
    expect(filter(entityWithoutAnnotations)).toBe(false);
  });

  it('renders the card through its extension', async () => {
    const tester = createExtensionTester(pgBackupEntityCard);
    expect(tester.get(EntityCardBlueprint.dataRefs.filterFunction)!(entity)).toBe(true);
    await renderInTestApp(<EntityProvider entity={entity}>{tester.reactElement()}</EntityProvider>, {
      apis: [[pgBackupApiRef, new FakePgBackupApi()]],
    });
    expect(await screen.findByText('Fresh: on schedule')).toBeInTheDocument();
  });

  it('mounts the fleet page at /pgbackup', () => {
    expect(createExtensionTester(pgBackupFleetPage).get(coreExtensionData.routePath)).toBe('/pgbackup');
  });
});
