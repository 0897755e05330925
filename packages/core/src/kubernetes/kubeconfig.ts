import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { invalid, notFound } from '../errors.js';

export interface KubeConfigOptions {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
  /** kubectl's --request-timeout: aborts each API request (not watches) after this many ms; 0 = none, undefined = DEFAULT_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** kubectl's --server: the API server's address instead of the cluster's. */
  server?: string;
  /** kubectl's --certificate-authority: a CA file instead of the cluster's. */
  certificateAuthority?: string;
  /** kubectl's --insecure-skip-tls-verify. */
  insecureSkipTlsVerify?: boolean;
  /** kubectl's --token: a bearer token instead of the user's credentials. */
  token?: string;
  /** kubectl's --as: the user to impersonate. */
  as?: string;
  /** kubectl's --as-group (client-node sends one Impersonate-Group header, so one group). */
  asGroups?: string[];
}

export interface LoadedKubeConfig {
  kubeConfig: KubeConfig;
  /** The namespace in effect: -n, else the context's, else "default". */
  namespace: string;
  contextName?: string;
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * Loads a kubeconfig the way kubectl does: `--kubeconfig` alone; else every file of KUBECONFIG
 * merged with the first file winning (client-node would throw on a duplicate and take the last
 * current-context); else ~/.kube/config; else in-cluster. No silent fallback to localhost:8080.
 */
export function loadKubeConfig(options: KubeConfigOptions = {}): LoadedKubeConfig {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  if (options.kubeconfig) {
    if (!existsSync(options.kubeconfig)) throw notFound(`kubeconfig file "${options.kubeconfig}" does not exist`);
    loadFile(kc, options.kubeconfig);
  } else if (env.KUBECONFIG) {
    mergeFiles(
      kc,
      env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f)),
    );
  } else if (existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))) {
    loadFile(kc, join(env.HOME ?? homedir(), '.kube', 'config'));
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
    kc.loadFromCluster();
    applyRequestTimeout(kc, options.requestTimeoutMs);
    return { kubeConfig: kc, namespace: options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default' };
  }
  if (kc.contexts.length === 0 && !options.cluster)
    throw invalid('no Kubernetes configuration found', {
      text: 'set KUBECONFIG, or create ~/.kube/config, or name the file',
      options: [{ option: 'kubeconfig' }],
    });

  if (options.context) {
    if (!kc.getContextObject(options.context))
      throw notFound(`context "${options.context}" does not exist`, `list contexts with: kubectl config get-contexts`);
    kc.setCurrentContext(options.context);
  }
  const contextName = kc.getCurrentContext();
  const context = kc.getContextObject(contextName);
  if (!context && !options.cluster)
    throw invalid(contextName ? `current context "${contextName}" does not exist` : 'no current context is set', {
      text: 'choose one with: kubectl config use-context NAME',
      options: [{ option: 'context' }],
    });
  if (options.cluster || options.user) {
    if (options.cluster && !kc.getCluster(options.cluster)) throw notFound(`cluster "${options.cluster}" does not exist in the kubeconfig`);
    if (options.user && !kc.getUser(options.user)) throw notFound(`user "${options.user}" does not exist in the kubeconfig`);
    const name = `${contextName || 'pgbackup'}-override`;
    kc.contexts = [
      ...kc.contexts,
      { name, cluster: options.cluster ?? context!.cluster, user: options.user ?? context!.user, namespace: context?.namespace },
    ];
    kc.setCurrentContext(name);
  }
  applyClientOverrides(kc, options);
  applyRequestTimeout(kc, options.requestTimeoutMs);
  return { kubeConfig: kc, namespace: options.namespace ?? context?.namespace ?? 'default', contextName: contextName || undefined };
}

/** Every API request has a deadline unless told otherwise (servers included): a hung API server never hangs a caller. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * kubectl's --server, --certificate-authority, --insecure-skip-tls-verify, --token, --as and
 * --as-group: the current context gets a copy of its cluster and user with them applied.
 */
function applyClientOverrides(kc: KubeConfig, o: KubeConfigOptions): void {
  const groups = o.asGroups ?? [];
  if (groups.length > 0 && !o.as) throw invalid('impersonating a group needs a user to impersonate', { options: [{ option: 'as' }] });
  if (groups.length > 1) throw invalid(`only one group can be impersonated (got ${groups.join(', ')})`);
  if (o.certificateAuthority && !existsSync(o.certificateAuthority))
    throw notFound(`certificate authority file "${o.certificateAuthority}" does not exist`);
  const clusterChanged = o.server !== undefined || o.certificateAuthority !== undefined || o.insecureSkipTlsVerify !== undefined;
  const userChanged = o.token !== undefined || o.as !== undefined;
  if (!clusterChanged && !userChanged) return;
  const context = kc.getContextObject(kc.getCurrentContext());
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  const name = `${context?.name ?? 'pgbackup'}-flags`;
  if (clusterChanged) {
    const server = o.server ?? cluster?.server;
    if (!server) throw invalid('no API server address: the kubeconfig names none', { options: [{ option: 'server' }] });
    const ca = o.certificateAuthority ? { caFile: o.certificateAuthority, caData: undefined } : {};
    kc.clusters = [
      ...kc.clusters,
      { ...cluster, name, server, skipTLSVerify: o.insecureSkipTlsVerify ?? cluster?.skipTLSVerify ?? false, ...ca },
    ];
  }
  if (userChanged)
    kc.users = [
      ...kc.users,
      {
        ...user,
        name,
        ...(o.token !== undefined ? { token: o.token, exec: undefined, authProvider: undefined } : {}),
        ...(o.as ? { impersonateUser: o.as } : {}),
      },
    ];
  kc.contexts = [
    ...kc.contexts,
    {
      name,
      cluster: clusterChanged ? name : (context?.cluster ?? ''),
      user: userChanged ? name : (context?.user ?? ''),
      namespace: context?.namespace,
    },
  ];
  kc.setCurrentContext(name);
  const group = groups[0];
  if (group) {
    // client-node knows Impersonate-User only; both its fetch and its WebSocket (exec) paths take headers from applyOptions.
    const target = kc as unknown as { applyOptions(opts: { headers?: Record<string, string> }): Promise<void> };
    const applyOptions = target.applyOptions.bind(kc);
    target.applyOptions = async (opts) => {
      await applyOptions(opts);
      opts.headers = { ...opts.headers, 'Impersonate-Group': group };
    };
  }
}

/** Every generated API client authenticates each request through the KubeConfig: add the deadline there. */
export function applyRequestTimeout(kc: KubeConfig, ms: number | undefined = DEFAULT_REQUEST_TIMEOUT_MS): KubeConfig {
  if (ms <= 0) return kc;
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    context.setSignal(AbortSignal.timeout(ms));
  };
  return kc;
}

function loadFile(kc: KubeConfig, file: string): void {
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw invalid(`cannot read kubeconfig "${file}": ${(e as Error).message}`);
  }
}

function mergeFiles(kc: KubeConfig, files: string[]): void {
  const byName = <T extends { name: string }>(lists: T[][]): T[] => {
    const seen = new Map<string, T>();
    for (const item of lists.flat()) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  const parts = files.map((f) => {
    const part = new KubeConfig();
    loadFile(part, f);
    return part;
  });
  kc.loadFromOptions({
    clusters: byName(parts.map((p) => p.clusters)),
    users: byName(parts.map((p) => p.users)),
    contexts: byName(parts.map((p) => p.contexts)),
    currentContext: parts.map((p) => p.getCurrentContext()).find(Boolean) ?? '',
  });
}
