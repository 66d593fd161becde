/**
 * `device-manager` (`npm run cli -- <command>`): bulk import and export, statistics and the expiry
 * forecast over the public API of a local or deployed device-manager (docs/api.md, Dashboard and command line).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ApiError, ApiUnreachableError, UsageError } from './errors';
import { filterQuery, refused, runExport, statsPath } from './export';
import { apiClient, type ApiClient } from './http-client';
import { allGood, formatSummary, reportWriter, runImport, type LineResult } from './import';
import { type RegisterCaOptions, registerCa, registeredLine, registrationCode } from './iot';
import { cancelJob, jobExitCode, jobLine, type StartOptions, startJob, watchJob } from './jobs';
import { startProgress } from './progress';
import { DEFAULT_RETRY } from './retry';
import { defaultSigV4Authenticator, type Authenticator } from './sigv4';
import { formatOf, openSource } from './sources';
import { runServerImport } from './server-import';
import { renderForecast, renderStats, type DeviceStats, type ExpirationForecast } from './tables';

export const DEFAULT_API = 'http://127.0.0.1:3000';
export const DEFAULT_CONCURRENCY = 16;
/** Problem lines echoed on stderr; the report file has them all. */
const ECHOED_PROBLEMS = 20;

type Output = NodeJS.WritableStream & { isTTY?: boolean };

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
}

interface ConnectionOptions {
  api: string;
  token?: string;
  aws?: boolean;
  region?: string;
  retries: number;
  insecure?: boolean;
}

function integer(min: number, max: number) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max)
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** A host name that never leaves this machine. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

async function authenticator(
  options: ConnectionOptions,
  api: URL,
  env: NodeJS.ProcessEnv,
): Promise<Authenticator | undefined> {
  const token = options.token ?? env.DEVICE_MANAGER_TOKEN;
  if (options.aws && token) throw new UsageError('pass either --token (or DEVICE_MANAGER_TOKEN) or --aws, not both');
  if (options.aws) return defaultSigV4Authenticator(api, options.region, env);
  if (token && api.protocol === 'http:' && !isLoopback(api) && !options.insecure)
    throw new UsageError(
      `refusing to send the token in clear text to ${api.origin}: use https, a loopback address, or --insecure`,
    );
  if (token) return async () => ({ authorization: `Bearer ${token}` });
  return undefined;
}

async function connect(
  options: ConnectionOptions,
  concurrency: number,
  env: NodeJS.ProcessEnv,
  onRetry?: () => void,
): Promise<ApiClient> {
  let api: URL;
  try {
    api = new URL(options.api);
  } catch {
    throw new UsageError(`--api: '${options.api}' is not a URL`);
  }
  if (api.protocol !== 'http:' && api.protocol !== 'https:')
    throw new UsageError(`--api: ${api.protocol} is not http or https`);
  return apiClient({
    api,
    authenticate: await authenticator(options, api, env),
    concurrency,
    retry: { ...DEFAULT_RETRY, attempts: options.retries + 1 },
    onRetry,
  });
}

function describe(result: LineResult): string {
  const details = result.details?.map((d) => `${d.field}: ${d.problem}`).join('; ');
  return (
    `line ${result.line}${result.id ? ` (${result.id})` : ''}: ` +
    `${result.outcome}${result.status ? ` ${result.status}` : ''}` +
    `${result.code ? ` ${result.code}` : ''}: ` +
    `${result.err ?? ''}${details ? ` [${details}]` : ''}`
  );
}

/** Builds the command tree; each action resolves with its exit code. */
function program(io: CliIo, setExit: (code: number) => void): Command {
  const root = new Command('device-manager')
    .description(
      'Bulk import and export of devices, fleet statistics and the expiry forecast, over the device-manager API',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError();

  const withConnection = (command: Command) =>
    command
      .option('--api <url>', 'API base URL (also $DEVICE_MANAGER_API)', io.env.DEVICE_MANAGER_API ?? DEFAULT_API)
      .option('--token <jwt>', 'bearer token (default $DEVICE_MANAGER_TOKEN)')
      .option('--aws', 'sign requests with AWS SigV4 (default credential chain, service execute-api)')
      .option('--region <region>', 'SigV4 region when the URL does not name one (default $AWS_REGION)')
      .option('--insecure', 'send the bearer token over plain http to a host that is not loopback')
      .addOption(
        new Option('--retries <n>', 'retries of a throttled (429), unavailable (503/5xx) or lost request')
          .default(DEFAULT_RETRY.attempts - 1)
          .argParser(integer(0, 20)),
      )
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const concurrencyOption = () =>
    new Option('--concurrency <n>', 'requests in flight').default(DEFAULT_CONCURRENCY).argParser(integer(1, 256));
  const progressOption = () =>
    new Option(
      '--progress-interval <seconds>',
      'seconds between progress lines when stderr is not a terminal (0: none)',
    )
      .default(5)
      .argParser(integer(0, 3600));

  withConnection(
    root
      .command('import')
      .argument(
        '<file>',
        'CSV (header: id,dms_id,tags,icon,icon_color,certificate,metadata.<path>...) or NDJSON; - reads stdin',
      ),
  )
    .description('create the devices of a file; re-runs are safe (unchanged, conflict, or --update)')
    .addOption(concurrencyOption())
    .addOption(
      new Option('--format <format>', 'file format when the extension does not tell').choices(['csv', 'ndjson']),
    )
    .option('--update', 'patch devices that exist with other content (If-Match) instead of reporting a conflict')
    .option('--report <file>', 'write every line that did not go in, and why, as NDJSON')
    .option('--server-side', "upload the file and let the service's workers import it (POST /v2/imports)")
    .addOption(progressOption())
    .action(
      async (
        file: string,
        options: ConnectionOptions & {
          concurrency: number;
          format?: string;
          update?: boolean;
          report?: string;
          progressInterval: number;
          serverSide?: boolean;
        },
      ) => {
        let retries = 0;
        const format = formatOf(file, options.format);
        const client = await connect(options, options.concurrency, io.env, () => retries++);
        const report = options.report ? reportWriter(options.report) : undefined;
        let echoed = 0;
        const progress = startProgress({
          label: 'import',
          stream: io.stderr,
          intervalSeconds: options.progressInterval,
        });
        const onProblem = async (result: LineResult) => {
          if (echoed++ < ECHOED_PROBLEMS) io.stderr.write(`${describe(result)}\n`);
          else if (echoed === ECHOED_PROBLEMS + 1 && !report)
            io.stderr.write('… more problem lines: pass --report <file> to list them all\n');
          await report?.write(result);
        };
        try {
          const summary = options.serverSide
            ? await runServerImport({
                client,
                file,
                format,
                update: options.update === true,
                progress,
                onProblem,
                onStarted: (id) => io.stderr.write(`import ${id} (POST /v2/imports/${id}/start resumes it)\n`),
              })
            : await runImport({
                client,
                source: openSource(file, format),
                concurrency: options.concurrency,
                update: options.update === true,
                retries: () => retries,
                progress,
                onProblem,
              });
          io.stdout.write(`${formatSummary(file, summary)}\n`);
          if (options.report) io.stdout.write(`report: ${options.report}\n`);
          setExit(allGood(summary) ? 0 : 1);
        } finally {
          await report?.close();
          client.close();
        }
      },
    );

  withConnection(root.command('export'))
    .description('write every matching device as NDJSON to stdout (import recreates them)')
    .option('--filter <filter>', 'device filter field[op]value, repeatable (ANDed)', collect, [])
    .option('--group <id>', 'only the members of this device group')
    .addOption(new Option('--page-size <n>', 'devices per list request').default(1000).argParser(integer(1, 1000)))
    .addOption(concurrencyOption())
    .addOption(progressOption())
    .action(
      async (
        options: ConnectionOptions & {
          filter: string[];
          group?: string;
          pageSize: number;
          concurrency: number;
          progressInterval: number;
        },
      ) => {
        const client = await connect(options, options.concurrency, io.env);
        try {
          const count = await runExport({
            client,
            filters: options.filter,
            group: options.group,
            out: io.stdout,
            pageSize: options.pageSize,
            concurrency: options.concurrency,
            progress: startProgress({ label: 'export', stream: io.stderr, intervalSeconds: options.progressInterval }),
          });
          io.stderr.write(`export: ${count} devices\n`);
        } finally {
          client.close();
        }
      },
    );

  withConnection(root.command('stats'))
    .description('device counts by status')
    .option('--filter <filter>', 'device filter field[op]value, repeatable (not status)', collect, [])
    .option('--group <id>', 'the statistics of this device group (filters narrow it)')
    .action(async (options: ConnectionOptions & { filter: string[]; group?: string }) => {
      const client = await connect(options, 1, io.env);
      try {
        const reply = await client.send('GET', statsPath(options.filter, options.group));
        if (reply.status !== 200) throw refused('stats', reply);
        io.stdout.write(`${renderStats(reply.body as DeviceStats)}\n`);
      } finally {
        client.close();
      }
    });

  withConnection(root.command('forecast'))
    .description('certificates and secrets expiring per day, week or month')
    .addOption(new Option('--bucket <bucket>', 'bucket size').choices(['day', 'week', 'month']).default('week'))
    .addOption(new Option('--horizon <days>', 'days ahead').default(90).argParser(integer(1, 730)))
    .option('--filter <filter>', 'device filter, e.g. dms_owner[eq]dms-1, repeatable', collect, [])
    .action(async (options: ConnectionOptions & { bucket: string; horizon: number; filter: string[] }) => {
      const client = await connect(options, 1, io.env);
      try {
        const reply = await client.send(
          'GET',
          `/v2/stats/expirations${filterQuery(options.filter, {
            bucket: options.bucket,
            horizon_days: String(options.horizon),
          })}`,
        );
        if (reply.status !== 200) throw refused('forecast', reply);
        io.stdout.write(`${renderForecast(reply.body as ExpirationForecast)}\n`);
      } finally {
        client.close();
      }
    });

  const jobs = root.command('jobs').description('remediation jobs: start, watch, cancel').exitOverride();
  const watchInterval = () =>
    new Option('--interval <seconds>', 'seconds between polls of the job').default(2).argParser(integer(1, 3600));
  const watchUntilDone = async (
    client: ApiClient,
    id: string,
    options: { interval: number; progressInterval: number },
  ) => {
    const job = await watchJob({
      client,
      id,
      intervalMs: options.interval * 1000,
      progress: startProgress({ label: `job ${id}`, stream: io.stderr, intervalSeconds: options.progressInterval }),
    });
    io.stdout.write(`${jobLine(job)}\n`);
    setExit(jobExitCode(job));
  };

  withConnection(jobs.command('start'))
    .description('apply an action to every device the filters or a finding select (docs/api.md, Remediation jobs)')
    .option('--filter <filter>', 'device filter field[op]value, repeatable (ANDed; at least one)', collect, [])
    .option('--finding <check>', 'instead of --filter: the devices with this posture check open (e.g. weak-key)')
    .addOption(
      new Option('--action <type>', 'what to do to each device')
        .choices(['revoke-identity', 'decommission', 'add-tags', 'remove-tags', 'merge-metadata'])
        .makeOptionMandatory(),
    )
    .option('--reason <reason>', 'revoke-identity: RFC 5280 reason (default Unspecified)')
    .option('--tag <tag>', 'add-tags / remove-tags: a tag, repeatable', collect, [])
    .option('--metadata <json>', 'merge-metadata: an RFC 7396 merge patch of the metadata')
    .option('--dry-run', 'count and list the selection; change nothing')
    .addOption(new Option('--rate <n>', 'devices per second at most').argParser(integer(1, 1000)))
    .option('--watch', 'then watch it until it finishes (exit 1 unless SUCCEEDED with no device failed)')
    .addOption(watchInterval())
    .addOption(progressOption())
    .action(
      async (
        options: ConnectionOptions & StartOptions & { watch?: boolean; interval: number; progressInterval: number },
      ) => {
        const client = await connect(options, 1, io.env);
        try {
          const job = await startJob(client, options);
          io.stdout.write(`${job.id}\n`);
          if (options.watch) await watchUntilDone(client, job.id, options);
        } finally {
          client.close();
        }
      },
    );

  withConnection(jobs.command('watch').argument('<id>', 'the job id'))
    .description("show a job's progress until it finishes (exit 1 unless SUCCEEDED with no device failed)")
    .addOption(watchInterval())
    .addOption(progressOption())
    .action(async (id: string, options: ConnectionOptions & { interval: number; progressInterval: number }) => {
      const client = await connect(options, 1, io.env);
      try {
        await watchUntilDone(client, id, options);
      } finally {
        client.close();
      }
    });

  withConnection(jobs.command('cancel').argument('<id>', 'the job id'))
    .description('cancel a PENDING or RUNNING job (devices already changed stay changed)')
    .action(async (id: string, options: ConnectionOptions) => {
      const client = await connect(options, 1, io.env);
      try {
        io.stdout.write(`${jobLine(await cancelJob(client, id))}\n`);
      } finally {
        client.close();
      }
    });

  const iot = root.command('iot').description('AWS IoT: register a CA (docs/iot-provisioning.md)').exitOverride();
  withConnection(iot.command('registration-code'))
    .description("the account's registration code (the common name of a CA's verification certificate)")
    .action(async (options: ConnectionOptions) => {
      const client = await connect(options, 1, io.env);
      try {
        io.stdout.write(`${await registrationCode(client)}\n`);
      } finally {
        client.close();
      }
    });

  withConnection(iot.command('register-ca'))
    .description('register a CA certificate in AWS IoT (proven by a verification certificate, or SNI_ONLY)')
    .requiredOption('--ca-certificate <file>', 'the CA certificate (PEM)')
    .option('--verification-certificate <file>', 'signed by the CA, common name the registration code')
    .option('--sni-only', 'SNI_ONLY mode: no verification certificate (multi-account mode)')
    .option('--inactive', 'register it INACTIVE')
    .option('--auto-registration', "AWS IoT registers the CA's device certificates at first connection (JITP)")
    .option('--provisioning-template <name>', 'the JITP template for those devices (a DMS provisioning_template)')
    .action(async (options: ConnectionOptions & RegisterCaOptions) => {
      const client = await connect(options, 1, io.env);
      try {
        const outcome = await registerCa(client, options);
        if ('steps' in outcome) {
          io.stderr.write(`${outcome.steps}\n`);
          setExit(2);
        } else io.stdout.write(`${registeredLine(outcome.registered)}\n`);
      } finally {
        client.close();
      }
    });

  return root;
}

/**
 * Runs the CLI with `argv` (the arguments after the program name); resolves with the exit code:
 * 0 done (import: every line created, unchanged or updated), 1 import lines left over, 2 usage,
 * authentication or API failure.
 */
export async function run(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let code = 0;
  try {
    await program(io, (c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof UsageError || error instanceof ApiError || error instanceof ApiUnreachableError)
      io.stderr.write(`device-manager: ${error.message}\n`);
    else
      io.stderr.write(
        `device-manager: ` +
          `${(error as Error).message ?? String(error)}` +
          `${(error as { code?: string }).code ? ` (${(error as { code?: string }).code})` : ''}\n`,
      );
    return 2;
  }
}

/** Runs as a program: exit code from `run`; a closed stdout (`export | head`) ends quietly. */
export function main(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
  void run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
