import type { Entity } from '@backstage/catalog-model';
import { CodeSnippet, EmptyState, WarningPanel } from '@backstage/core-components';
import { Button, Typography } from '@material-ui/core';
import { annotationYaml, missingAnnotations } from '../annotations.js';
import { PgBackupApiError } from '../api/types.js';

/** The API refused: the reader lacks the read permission (or Kubernetes RBAC refused the backend). */
export function isDenied(error: unknown): boolean {
  return error instanceof PgBackupApiError && error.status === 403;
}

/** Loading failed: the problem's title, its detail and what to do next; never a stack trace. */
export function ApiErrorPanel({ error, what, onRetry }: { error: Error; what: string; onRetry?: () => void }) {
  if (isDenied(error)) return <DeniedState error={error as PgBackupApiError} what={what} />;
  const problem = error instanceof PgBackupApiError ? error.problem : undefined;
  return (
    <WarningPanel
      severity="error"
      title={`Could not load ${what}${problem ? `: ${problem.title}` : ''}`}
      defaultExpanded
      message={
        <span role="alert">
          {error.message}
          {problem?.hint ? <Typography variant="body2">Next step: {problem.hint}</Typography> : null}
        </span>
      }
    >
      {onRetry ? (
        <Button variant="outlined" color="primary" onClick={onRetry}>
          Retry
        </Button>
      ) : null}
    </WarningPanel>
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

/** Like MissingAnnotationEmptyState, with the exact YAML this plugin needs. */
export function MissingAnnotationState({ entity }: { entity: Entity }) {
  const missing = missingAnnotations(entity);
  return (
    <EmptyState
      missing="field"
      title="No PostgreSQL StatefulSet is linked to this entity"
      description={
        <>
          Add {missing.length === 1 ? 'the annotation' : 'the annotations'}{' '}
          {missing.map((a, i) => (
            <span key={a}>
              {i > 0 ? ' and ' : ''}
              <code>{a}</code>
            </span>
          ))}{' '}
          to this entity's <code>catalog-info.yaml</code> so pgbackup can find its database:
        </>
      }
      action={
        <>
          <CodeSnippet text={annotationYaml(entity)} language="yaml" showCopyCodeButton />
          <Typography variant="body2">
            <code>backstage.io/kubernetes-label-selector</code> works in place of <code>backstage.io/kubernetes-id</code>.
          </Typography>
        </>
      }
    />
  );
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
