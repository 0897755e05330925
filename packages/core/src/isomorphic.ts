/** The browser-safe part of core: contract, domain, errors and schemas (no Node, no Kubernetes client). */
export * from './contract.js';
export * from './errors.js';
export * from './domain/backup.js';
export * from './domain/health.js';
export * from './domain/names.js';
export * from './domain/retention.js';
export * from './domain/schedule.js';
export * from './domain/snapshotClass.js';
export * from './schemas.js';
export * from './domain/kubernetesPermissions.js';
export * from './domain/labelSelector.js';
export * from './httpApi.js';
