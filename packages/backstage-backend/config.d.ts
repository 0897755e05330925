export interface Config {
  /** pgbackup backend plugin: which Kubernetes clusters hold the PostgreSQL StatefulSets. */
  pgbackup?: {
    /**
     * One entry per cluster (the first is the default for requests that name none; an entity picks
     * one with its `pgbackup.io/cluster` annotation). Mirrors the Kubernetes plugin's cluster
     * entries. Without any entry: KUBECONFIG, ~/.kube/config, then the pod's ServiceAccount.
     */
    clusters?: Array<{
      /** Name used by `?cluster=` and the `pgbackup.io/cluster` annotation. */
      name: string;
      /** API server URL, e.g. https://kubernetes.default.svc. Without it, `kubeconfig`/`context` or in-cluster config. */
      url?: string;
      /**
       * Bearer token of a ServiceAccount allowed to list/watch VolumeSnapshots and StatefulSets (and
       * create/patch/delete VolumeSnapshots, exec for CHECKPOINT, Leases for writes). Without it, the pod's own token.
       * @visibility secret
       */
      serviceAccountToken?: string;
      /**
       * Base64-encoded PEM of the API server's CA.
       * @visibility secret
       */
      caData?: string;
      /** Path of the API server's CA file. */
      caFile?: string;
      /** Do not verify the API server's certificate (tests only). */
      skipTLSVerify?: boolean;
      /** Path of a kubeconfig file, when `url` is not set. */
      kubeconfig?: string;
      /** Context of that kubeconfig. */
      context?: string;
      /** Namespace of requests and entities that name none. */
      defaultNamespace?: string;
      /** Watch only these namespaces (a namespaced Role is then enough); default the whole cluster. */
      namespaces?: string[];
    }>;
    /** Request body limit of the API, e.g. 16kb (the default). */
    bodyLimit?: string;
    /** `/api/pgbackup/metrics` (Prometheus). */
    metrics?: {
      /** `open` (the default: anyone who reaches the backend may scrape) or `bearer` (one of `tokens`). */
      auth?: 'open' | 'bearer';
      /**
       * Scrape tokens accepted with auth `bearer`.
       * @visibility secret
       */
      tokens?: string[];
    };
  };
}
