import { CodeSnippet, EmptyState, ErrorPanel } from '@backstage/core-components';
import { MissingAnnotationEmptyState, useEntity } from '@backstage/plugin-catalog-react';
import { Button, ListItem, ListItemText } from '@material-ui/core';
import { makeStyles } from '@material-ui/core/styles';
import { missingAnnotations } from '../annotations.js';
import { PgBackupApiError } from '../api/types.js';

/** The API refused: the reader lacks the read permission (or Kubernetes RBAC refused the backend). */
export function isDenied(error: unknown): boolean {
  return error instanceof PgBackupApiError && error.status === 403;
}

/** Loading failed: Backstage's ErrorPanel with the problem's title, its detail and what to do next; never a stack trace. */
export function ApiErrorPanel({ error, what, onRetry }: { error: Error; what: string; onRetry?: () => void }) {
  if (isDenied(error)) return <DeniedState error={error as PgBackupApiError} what={what} />;
  const problem = error instanceof PgBackupApiError ? error.problem : undefined;
  // What the panel lists: the problem's title and detail, without the stack ErrorPanel would show.
  const shown = { name: problem?.title ?? error.name, message: error.message };
  return (
    <ErrorPanel error={shown} title={`Could not load ${what}${problem ? `: ${problem.title}` : ''}`} defaultExpanded>
      {problem?.hint ? (
        <ListItem alignItems="flex-start">
          <ListItemText primary="Next step" secondary={problem.hint} />
        </ListItem>
      ) : null}
      {onRetry ? (
        <ListItem>
          <Button variant="outlined" color="primary" onClick={onRetry}>
            Retry
          </Button>
        </ListItem>
      ) : null}
    </ErrorPanel>
  );
}

export function DeniedState({ error, what }: { error?: PgBackupApiError; what: string }) {
  return (
    <EmptyState
      missing="info"
      title={`You do not have access to the ${what} of this entity`}
      description={
        error?.problem?.detail ??
        'Your Backstage permissions do not allow reading its backups. Ask the entity owners or your Backstage administrators for the pgbackup read permission.'
      }
    />
  );
}

/**
 * Backstage's MissingAnnotationEmptyState for the annotations this entity lacks. `compact` (in a card)
 * stacks its two columns, so the YAML gets the card's whole width instead of being cut at half of it,
 * and leaves out the illustration.
 */
// Matched by the class's prefix: MUI suffixes it when a page holds more than one stylesheet instance.
const useStyles = makeStyles({
  stacked: { '& [class*="MuiGrid-grid-md-6"]': { maxWidth: '100%', flexBasis: '100%' }, '& img': { display: 'none' } },
});

export function MissingAnnotationState({ compact = false }: { compact?: boolean }) {
  const { entity } = useEntity();
  const classes = useStyles();
  const state = <MissingAnnotationEmptyState annotation={missingAnnotations(entity)} />;
  return compact ? <div className={classes.stacked}>{state}</div> : state;
}

export function NoBackupsState({ statefulSet, namespace, canCreate }: { statefulSet: string; namespace: string; canCreate: boolean }) {
  return (
    <EmptyState
      missing="data"
      title={`No backups of ${statefulSet} yet`}
      description={
        canCreate
          ? 'Use "Back up now" above, schedule backups, or run the command below.'
          : 'Schedule backups, or take one with the command below.'
      }
      action={
        <CodeSnippet
          text={`kubectl pgbackup create ${statefulSet} -n ${namespace} --wait\nkubectl pgbackup schedule set ${statefulSet} -n ${namespace} --cron '0 2 * * *'`}
          language="bash"
          showCopyCodeButton
        />
      }
    />
  );
}
