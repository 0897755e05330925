/**
 * What every verb shares: kubectl's global flags (kubectl passes none of its own to a plugin), the
 * lazily built dependencies (core and the Kubernetes client load only when a verb needs the cluster,
 * never for --help, --version or completion), output and the one error exit.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import type { AccessReviewer, Deps, KubernetesObject, PlannedChange, ScheduleWriter, ServerDryRun } from '@pgbackup/core';
import { CliError, ExitCode, describeError, formatError } from './errors.js';
import { reportFailure } from './webhook.js';
import { OUTPUT_FORMATS, type OutputFormat, type OutputOptions, type View, parseOutput, render, resourceName } from './output.js';

export type Core = typeof import('@pgbackup/core');

/** Every port a verb may use: core's Deps plus the tool-only ones (schedule writer, access review, the server's dry run). */
export type ToolDeps = Deps & { scheduleWriter: ScheduleWriter; access: AccessReviewer; serverDryRun: ServerDryRun };

export interface Runtime {
  core: Core;
  deps: ToolDeps;
  /** -n, else the kubeconfig context's namespace, else "default". */
  namespace: string;
}

export interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  'all-namespaces': boolean;
  'request-timeout': string;
  server?: string;
  'certificate-authority'?: string;
  'insecure-skip-tls-verify': boolean;
  token?: string;
  as?: string;
  'as-group'?: string[];
  output?: string;
  'no-headers': boolean;
  'no-color': boolean;
  debug: boolean;
}

export type RuntimeFactory = (flags: GlobalFlags) => Promise<Runtime>;

const clusterRuntime: RuntimeFactory = async (flags) => {
  const core = await import('@pgbackup/core');
  const loaded = core.loadKubeConfig({
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    cluster: flags.cluster,
    user: flags.user,
    namespace: flags.namespace,
    requestTimeoutMs: parseDuration(flags['request-timeout'], '--request-timeout') * 1000,
    server: flags.server,
    certificateAuthority: flags['certificate-authority'],
    insecureSkipTlsVerify: flags['insecure-skip-tls-verify'] || undefined,
    token: flags.token,
    as: flags.as,
    asGroups: flags['as-group'],
  });
  return { core, deps: { ...core.kubernetesDeps(loaded), ...core.kubernetesToolDeps(loaded) }, namespace: loaded.namespace };
};

let runtimeFactory: RuntimeFactory = clusterRuntime;

/** Tests swap the cluster for core's in-memory fakes (Velero's client factory). */
export function setRuntimeFactory(factory?: RuntimeFactory): void {
  runtimeFactory = factory ?? clusterRuntime;
}

/** The runtime for code outside a BaseCommand (completion). */
export function buildRuntime(flags: Partial<GlobalFlags>): Promise<Runtime> {
  return runtimeFactory({
    'all-namespaces': false,
    'request-timeout': '0',
    'insecure-skip-tls-verify': false,
    'no-headers': false,
    'no-color': false,
    debug: false,
    ...flags,
  });
}

/** kubectl durations: "0", "30", "30s", "5m", "1h30m", "500ms" → seconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t)
    throw new CliError(`invalid ${flag} "${text}": expected a duration such as 30s, 5m or 1h`, ExitCode.usage);
  const factor: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * factor[p[2]!]!, 0);
}

const GLOBAL = 'GLOBAL';

/** What stopped the work of `interruptible`: Ctrl-C ("interrupted", 130) or SIGTERM ("terminated", 143). It is the signal's reason. */
export class Stop extends Error {
  constructor(
    readonly word: 'interrupted' | 'terminated',
    readonly exitCode: number,
  ) {
    super(word);
  }
}

export const DRY_RUN_MODES = ['none', 'client', 'server'] as const;
type DryRunMode = (typeof DRY_RUN_MODES)[number];

/**
 * kubectl's --dry-run=none|client|server; a bare --dry-run means client (see init). Both plan
 * against the live cluster's objects; server also sends the writes with dryRun=All, so the API
 * server's authorization, admission and validation answer. Nothing is written.
 */
export const dryRunFlag = (description: string) =>
  Flags.string({
    options: [...DRY_RUN_MODES],
    default: 'none',
    description: `${description} (client: plan against the live objects; server: also have the API server check every write; nothing is written)`,
  });

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    kubeconfig: Flags.string({ helpGroup: GLOBAL, description: 'Path to the kubeconfig file (else $KUBECONFIG, else ~/.kube/config)' }),
    context: Flags.string({ helpGroup: GLOBAL, description: 'The kubeconfig context to use' }),
    cluster: Flags.string({ helpGroup: GLOBAL, description: 'The kubeconfig cluster to use' }),
    user: Flags.string({ helpGroup: GLOBAL, description: 'The kubeconfig user to use' }),
    namespace: Flags.string({ char: 'n', helpGroup: GLOBAL, description: "Namespace (default: the context's namespace)" }),
    'all-namespaces': Flags.boolean({
      char: 'A',
      helpGroup: GLOBAL,
      default: false,
      description: 'Across all namespaces (list, completion)',
    }),
    'request-timeout': Flags.string({
      helpGroup: GLOBAL,
      default: '30s',
      description: 'Timeout of each API request, e.g. 10s (0 = none); watches and waits have their own --timeout',
    }),
    server: Flags.string({ char: 's', helpGroup: GLOBAL, description: 'The address and port of the Kubernetes API server' }),
    'certificate-authority': Flags.string({ helpGroup: GLOBAL, description: 'Path to a cert file for the certificate authority' }),
    'insecure-skip-tls-verify': Flags.boolean({
      helpGroup: GLOBAL,
      default: false,
      description: "Do not check the server's certificate (insecure)",
    }),
    token: Flags.string({ helpGroup: GLOBAL, description: 'Bearer token for authentication to the API server' }),
    as: Flags.string({ helpGroup: GLOBAL, description: 'Username to impersonate for the operation' }),
    'as-group': Flags.string({ helpGroup: GLOBAL, multiple: true, description: 'Group to impersonate for the operation (with --as)' }),
    output: Flags.string({ char: 'o', helpGroup: GLOBAL, description: `Output format: ${OUTPUT_FORMATS.join('|')}` }),
    'no-headers': Flags.boolean({ helpGroup: GLOBAL, default: false, description: 'Omit table headers' }),
    'no-color': Flags.boolean({ helpGroup: GLOBAL, default: false, description: 'Plain text, no ANSI colors' }),
    debug: Flags.boolean({ helpGroup: GLOBAL, default: false, description: 'Print stack traces of errors' }),
  };

  protected flags!: Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
  protected args!: Interfaces.InferredArgs<T['args']>;

  public override async init(): Promise<void> {
    await super.init();
    // kubectl once spelled --dry-run without a value; it means client.
    this.argv = this.argv.map((a) => (a === '--dry-run' ? '--dry-run=client' : a));
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as typeof this.flags;
    this.outputCache = parseOutput(this.flags.output);
    this.args = args as typeof this.args;
  }

  private runtimeCache?: Promise<Runtime>;

  /** Core and the cluster's adapters, built on first use. */
  protected runtime(): Promise<Runtime> {
    this.runtimeCache ??= runtimeFactory(this.flags as GlobalFlags);
    return this.runtimeCache;
  }

  private outputCache?: Omit<OutputOptions, 'noHeaders'>;

  /** -o, parsed once (a bad one is a usage error before anything is done). */
  protected get outputOptions(): OutputOptions {
    this.outputCache ??= parseOutput(this.flags.output);
    return { ...this.outputCache, noHeaders: this.flags['no-headers'] };
  }

  /** --dry-run=client|server (or a bare --dry-run): plan, write nothing. */
  protected get dryRun(): boolean {
    return this.dryRunMode !== 'none';
  }

  protected get dryRunMode(): DryRunMode {
    return ((this.flags as { 'dry-run'?: DryRunMode })['dry-run'] ?? 'none') as DryRunMode;
  }

  /** kubectl's words after an object a dry run would change. */
  protected get dryRunSuffix(): string {
    return this.dryRunMode === 'server' ? '(server dry run)' : '(dry run)';
  }

  /**
   * A planned change as a dry run answers it: with --dry-run=server sent to the API server with
   * dryRun=All (its refusal is this command's error) and the objects as it answered them; else as planned.
   */
  protected async dryRunObjects(change: PlannedChange): Promise<KubernetesObject[]> {
    if (this.dryRunMode !== 'server') return [...(change.create ?? []), ...(change.apply ?? [])];
    const { core, deps } = await this.runtime();
    return core.serverDryRun(deps, change);
  }

  /**
   * Prints a dry run through the one output path, as kubectl does: the objects it would delete and
   * create (json: a List, yaml and the table: their manifests; name: kind.group/name).
   */
  protected async printDryRun(change: PlannedChange): Promise<void> {
    // As kubectl prints objects: without managedFields.
    const created = (await this.dryRunObjects(change)).map(({ metadata: { managedFields: _, ...metadata }, ...o }) => ({ ...o, metadata }));
    const deleted = change.delete ?? [];
    const objects = [...deleted, ...created];
    const { stringify } = await import('yaml');
    await this.print({
      objects,
      rows: objects,
      columns: [],
      name: resourceName,
      text: () =>
        deleted.map((o) => `${resourceName(o)} deleted ${this.dryRunSuffix}\n`).join('') +
        created.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'),
    });
  }

  protected get format(): OutputFormat {
    return this.outputOptions.format;
  }

  /** True when colors may be used on this stream. */
  protected color(stream: NodeJS.WriteStream = process.stdout): boolean {
    return !this.flags['no-color'] && !process.env.NO_COLOR && stream.isTTY === true;
  }

  protected out(text: string): void {
    process.stdout.write(text);
  }

  /** Progress and notes: stderr, so stdout stays parseable. */
  protected note(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : text + '\n');
  }

  protected async print<R>(view: View<R>): Promise<void> {
    const { stdout, stderr } = await render(view, this.outputOptions);
    if (stdout) this.out(stdout);
    if (stderr) this.note(stderr);
  }

  /** A duration flag that must be positive (--timeout, --consistency-timeout), in seconds. */
  protected positiveDuration(flag: string): number {
    const seconds = parseDuration((this.flags as Record<string, unknown>)[flag] as string, `--${flag}`);
    if (seconds <= 0) throw new CliError(`--${flag} must be greater than 0`, ExitCode.usage);
    return seconds;
  }

  /**
   * Runs `work` with a signal that Ctrl-C and SIGTERM (a CI job's timeout, a pod's shutdown) abort, so it
   * stops cleanly: it rolls back or records where it stopped. Once aborted, whatever `work` rejects with
   * becomes `interrupted(stop, error)` (exit 130 or 143, worded for what the verb left behind).
   */
  protected async interruptible<R>(
    work: (signal: AbortSignal) => Promise<R>,
    interrupted: (stop: Stop, error: unknown) => unknown = (stop) => new CliError(stop.word, stop.exitCode),
  ): Promise<R> {
    const interrupt = new AbortController();
    const onSigint = () => interrupt.abort(new Stop('interrupted', ExitCode.interrupted));
    const onSigterm = () => interrupt.abort(new Stop('terminated', ExitCode.terminated));
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    try {
      return await work(interrupt.signal).catch((e: unknown) => {
        throw interrupt.signal.aborted ? interrupted(interrupt.signal.reason as Stop, e) : e;
      });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
    }
  }

  /**
   * kubectl's --watch: runs `follow` until Ctrl-C, which ends it with exit 0. What `follow` hands to
   * `emit` is printed in order, each after the one before.
   */
  protected async watchUntilInterrupted(
    follow: (signal: AbortSignal, emit: (show: () => void | Promise<void>) => void) => Promise<void>,
  ): Promise<void> {
    let printing: Promise<void> = Promise.resolve();
    const emit = (show: () => void | Promise<void>) => {
      printing = printing.then(show);
    };
    await this.interruptible((signal) =>
      follow(signal, emit).catch((e: unknown) => {
        // Ctrl-C is how a watch ends; SIGTERM still exits 143.
        if (!signal.aborted || (signal.reason as Stop).word !== 'interrupted') throw e;
      }),
    );
    await printing;
  }

  /** Asks `question` on a terminal (y/N); without one, or with -o json|yaml, --yes is required. */
  protected async confirm(question: string): Promise<void> {
    if (!process.stdin.isTTY || this.format === 'json' || this.format === 'yaml')
      throw new CliError('confirmation required; re-run with --yes', ExitCode.failure);
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('aborted: nothing was changed', ExitCode.failure);
    } finally {
      rl.close();
    }
  }

  /** For verbs that act in one namespace. */
  protected refuseAllNamespaces(): void {
    if (this.flags['all-namespaces'])
      throw new CliError(`--all-namespaces is not supported by "${this.id}"`, ExitCode.usage, 'pass -n NAMESPACE');
  }

  public override async catch(err: Error & { oclif?: { exit?: number } }): Promise<void> {
    // oclif's own exit (this.exit) and help/version requests pass through.
    if (err.oclif?.exit !== undefined && err.message.startsWith('EEXIT')) throw err;
    const debug = this.flags?.debug ?? process.argv.includes('--debug');
    process.stderr.write(formatError(err, debug));
    await reportFailure(process.env, {
      command: this.id ?? '',
      namespace: this.flags?.namespace ?? process.env.POD_NAMESPACE ?? '',
      target: Object.values((this.args ?? {}) as Record<string, unknown>)
        .filter((a) => typeof a === 'string')
        .join(' '),
      err,
    }).catch(() => undefined);
    this.exit(describeError(err).exitCode);
  }
}
