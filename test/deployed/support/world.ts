/**
 * One simulated deployment of a synthesized profile: the embedded engine holding the template's
 * table, the AWS endpoint, the bus with the template's rules, the queues with their event source
 * mappings, the table stream feeding the publisher's mapping, and a warm container per function.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { ensureTable } from '../../../local/create-table';
import { type Engine, startEngine } from '@device-manager/local-engine';
import { type StreamFeed, startStreamFeed } from '@device-manager/local-engine/stream-feed';
import { type Invocation, SimEndpoint } from './endpoint';
import { type InvokeResult, LambdaContainer } from './lambda-runtime';
import { matchesPattern } from '@device-manager/local-engine/stream-feed/event-pattern';
import { evaluate } from './iam';
import type { SimEventSource, SimFunction, SimRoute, SimStack } from './template';

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: any;
  route: SimRoute;
  invocation: Invocation;
}

export interface SimFailure {
  function: string;
  trigger: string;
  error: string;
  logs: string;
}

interface Message {
  id: string;
  body: string;
  receives: number;
  attributes?: unknown;
}

const MAX_WARM = 8;

export class World {
  readonly endpoint: SimEndpoint;
  /** Invocations that failed where a failure is not expected to be normal (async targets, batches). */
  readonly failures: SimFailure[] = [];
  /** Every invocation, in order. */
  readonly invocations: (Invocation & { trigger: string; ok: boolean })[] = [];
  readonly initMs = new Map<string, number>();
  readonly queues = new Map<string, Message[]>();
  readonly busEvents: { bus: string; event: Record<string, any> }[] = [];
  private readonly containers = new Map<string, LambdaContainer>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private pending: Promise<unknown>[] = [];
  /** One feed per stream event source (the publisher, the counter applier), like one mapping each. */
  private feeds: StreamFeed[] = [];

  private constructor(
    readonly stack: SimStack,
    readonly engine: Engine,
    private readonly runtime: { nodePath: string; bootstrap: string },
  ) {
    this.endpoint = new SimEndpoint(stack, engine.endpoint, {
      putEvent: (bus, event) => this.putEvent(bus, event),
      sendMessage: (arn, body, attributes) => this.enqueue(arn, body, attributes),
    });
  }

  static async start(stack: SimStack, runtime: { nodePath: string; bootstrap: string }): Promise<World> {
    const engine = await startEngine({});
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: stack.region,
      credentials: { accessKeyId: 'sim', secretAccessKey: 'sim' },
    });
    await ensureTable(client, stack.tableName);
    client.destroy();
    const world = new World(stack, engine, runtime);
    await world.endpoint.start();
    for (const arn of stack.secrets.keys()) world.endpoint.secretValues.set(arn, randomBytes(32).toString('hex'));
    for (const q of stack.queues.values()) world.queues.set(q.arn, []);
    world.startStream();
    return world;
  }

  async stop(): Promise<void> {
    await Promise.all(this.feeds.map((feed) => feed.stop()));
    await Promise.all([...this.containers.values()].map((c) => c.stop()));
    await this.endpoint.stop();
    await this.engine.stop();
  }

  fn(logicalIdPart: string): SimFunction {
    const found = [...this.stack.functions.values()].filter((f) => f.logicalId.includes(logicalIdPart));
    if (found.length !== 1) throw new Error(`${found.length} functions match ${logicalIdPart}`);
    return found[0]!;
  }

  private container(fn: SimFunction): LambdaContainer {
    let c = this.containers.get(fn.logicalId);
    if (c) {
      // Most recently used last.
      this.containers.delete(fn.logicalId);
      this.containers.set(fn.logicalId, c);
      return c;
    }
    if (this.containers.size >= MAX_WARM) {
      const [oldest, container] = this.containers.entries().next().value as [string, LambdaContainer];
      this.containers.delete(oldest);
      void container.stop();
    }
    c = new LambdaContainer(fn, {
      ...this.runtime,
      region: this.stack.region,
      account: this.stack.account,
      endpointUrl: this.endpoint.url,
      xrayDaemon: this.endpoint.xrayAddress,
      accessKeyId: (f) => this.endpoint.accessKeyOf(f),
    });
    this.containers.set(fn.logicalId, c);
    void c.initMs.then(
      (ms) => {
        if (!this.initMs.has(fn.logicalId)) this.initMs.set(fn.logicalId, ms);
      },
      () => undefined,
    );
    return c;
  }

  /** Invokes a function (serially per function, as one warm container) and records its AWS calls. */
  invoke(fn: SimFunction, event: unknown, trigger: string): Promise<InvokeResult & { invocation: Invocation }> {
    const previous = this.chains.get(fn.logicalId) ?? Promise.resolve();
    const run = previous.then(async () => {
      const container = this.container(fn);
      await container.initMs;
      const invocation: Invocation = { function: fn.logicalId, calls: 0, rounds: 0, inFlight: 0 };
      this.endpoint.current.set(fn.logicalId, invocation);
      try {
        const result = await container.invoke(event);
        this.invocations.push({ ...invocation, trigger, ok: result.ok });
        if (!result.ok)
          this.failures.push({
            function: fn.logicalId,
            trigger,
            error: `${result.error?.name}: ${result.error?.message}`,
            logs: container.logs().slice(-4000),
          });
        return { ...result, invocation };
      } finally {
        this.endpoint.current.delete(fn.logicalId);
      }
    });
    this.chains.set(
      fn.logicalId,
      run.catch(() => undefined),
    );
    return run;
  }

  hasRoute(method: string, rawPath: string): boolean {
    return this.stack.routes.some((r) => r.method === method && routePattern(r.path).test(rawPath));
  }

  /** An HTTP API request, as API Gateway (payload 2.0) hands it to the route's function. */
  async request(
    method: string,
    rawPath: string,
    options: { body?: unknown; headers?: Record<string, string>; query?: Record<string, string> } = {},
  ): Promise<ApiResponse> {
    const route = this.stack.routes.find((r) => r.method === method && routePattern(r.path).test(rawPath));
    if (!route) throw new Error(`no route of the template for ${method} ${rawPath}`);
    const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const values = routePattern(route.path).exec(rawPath)!.slice(1);
    // A string is the body as is (a CSV file); anything else is sent as JSON.
    const body =
      options.body === undefined
        ? undefined
        : Buffer.from(typeof options.body === 'string' ? options.body : JSON.stringify(options.body));
    const query = options.query ?? {};
    const requestId = randomUUID();
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey: route.routeKey,
      rawPath,
      rawQueryString: new URLSearchParams(query).toString(),
      headers: {
        host: 'api.sim',
        'user-agent': 'deploy-sim',
        ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}),
        ...options.headers,
      },
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(names.length
        ? { pathParameters: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(values[i]!)])) }
        : {}),
      requestContext: {
        accountId: this.stack.account,
        apiId: 'simapi',
        domainName: 'simapi.execute-api.eu-west-1.amazonaws.com',
        domainPrefix: 'simapi',
        http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'deploy-sim' },
        requestId,
        routeKey: route.routeKey,
        stage: '$default',
        time: now.toISOString(),
        timeEpoch: now.getTime(),
        ...authorizerOf(route, this.stack.account),
      },
      ...(body ? { body: body.toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
    };
    const result = await this.invoke(route.function, event, route.routeKey);
    if (!result.ok)
      return {
        status: 502,
        headers: {},
        body: { message: 'Internal Server Error', error: result.error },
        route,
        invocation: result.invocation,
      };
    const r = result.result as {
      statusCode?: number;
      headers?: Record<string, string>;
      body?: string;
      isBase64Encoded?: boolean;
    } | null;
    const text = r?.isBase64Encoded ? Buffer.from(r.body ?? '', 'base64').toString('utf8') : (r?.body ?? '');
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return {
      status: r?.statusCode ?? 200,
      headers: r?.headers ?? {},
      body: parsed,
      route,
      invocation: result.invocation,
    };
  }

  /** EventBridge: the event goes to every target of every rule on that bus whose pattern matches. */
  putEvent(bus: string, event: Record<string, unknown>): void {
    this.busEvents.push({ bus, event });
    for (const rule of this.stack.rules) {
      if (rule.busName !== bus || !rule.pattern || !matchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        if (target.kind === 'sqs') this.enqueue(target.arn, JSON.stringify(event));
        else {
          const fn = [...this.stack.functions.values()].find((f) => f.arn === target.arn);
          if (!fn) throw new Error(`rule ${rule.logicalId}: target ${target.arn} is not a simulated function`);
          this.pending.push(this.invoke(fn, event, `rule ${rule.logicalId}`));
        }
      }
    }
  }

  /**
   * AWS IoT publishes `payload` on `topic`: every topic rule whose filter matches sends it to its queues,
   * under the rule's role (a send the role does not allow is a denial, and nothing is sent).
   */
  publishIot(topic: string, payload: Record<string, unknown>): void {
    const matches = (filter: string) => {
      const f = filter.split('/');
      const t = topic.split('/');
      return (
        f.every((part, i) => part === '#' || (i < t.length && (part === '+' || part === t[i]))) &&
        (f.at(-1) === '#' || f.length === t.length)
      );
    };
    for (const rule of this.stack.topicRules.filter((r) => matches(r.topicFilter)))
      for (const action of rule.actions) {
        if (evaluate(action.statements, 'sqs:SendMessage', action.queueArn) !== 'allowed') {
          this.endpoint.denials.push({
            function: action.roleLogicalId,
            action: 'sqs:SendMessage',
            resource: action.queueArn,
          });
          continue;
        }
        this.enqueue(action.queueArn, JSON.stringify(payload));
      }
  }

  /** The schedule rule's event, as EventBridge sends it to its target. */
  async schedule(fn: SimFunction): Promise<InvokeResult & { invocation: Invocation }> {
    const rule = this.stack.rules.find((r) => r.schedule && r.targets.some((t) => t.arn === fn.arn));
    if (!rule) throw new Error(`no schedule targets ${fn.logicalId}`);
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.stack.account,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.stack.region,
      resources: [rule.arn],
      detail: {},
    };
    return this.invoke(fn, event, `schedule ${rule.logicalId}`);
  }

  private enqueue(arn: string, body: string, attributes?: unknown): string {
    const queue = this.queues.get(arn);
    if (!queue) throw new Error(`no queue ${arn}`);
    const id = randomUUID();
    queue.push({ id, body, receives: 0, attributes });
    return id;
  }

  /** Lambda's SQS pollers: batches to the mapped function, failed items back to the queue (then the DLQ). */
  private async pollQueues(): Promise<boolean> {
    let moved = false;
    for (const source of this.stack.eventSources) {
      const queue = this.queues.get(source.sourceArn);
      if (!queue || queue.length === 0) continue;
      const arn = source.sourceArn;
      // The poller acts with the function's role.
      this.endpoint.authorizeService(source.function, 'sqs', [
        ['sqs:ReceiveMessage', arn],
        ['sqs:DeleteMessage', arn],
        ['sqs:GetQueueAttributes', arn],
        ['sqs:ChangeMessageVisibility', arn],
      ]);
      const batch = queue.splice(0, source.batchSize);
      for (const m of batch) m.receives++;
      const event = {
        Records: batch.map((m) => ({
          messageId: m.id,
          receiptHandle: m.id,
          body: m.body,
          attributes: {
            ApproximateReceiveCount: String(m.receives),
            SentTimestamp: String(Date.now()),
            SenderId: 'AROASIM',
            ApproximateFirstReceiveTimestamp: String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: '',
          eventSource: 'aws:sqs',
          eventSourceARN: arn,
          awsRegion: this.stack.region,
        })),
      };
      moved = true;
      const result = await this.invoke(source.function, event, `queue ${source.logicalId}`);
      const failedIds = !result.ok
        ? batch.map((m) => m.id)
        : ((result.result?.batchItemFailures ?? []) as { itemIdentifier: string }[]).map((f) => f.itemIdentifier);
      const q = this.stack.queues.get(arn);
      for (const m of batch.filter((b) => failedIds.includes(b.id))) {
        if (q?.redrive && m.receives >= q.redrive.maxReceiveCount)
          this.queues.get(q.redrive.deadLetterTargetArn)!.push(m);
        else queue.push(m);
      }
      if (failedIds.length > 0 && result.ok)
        this.failures.push({
          function: source.function.logicalId,
          trigger: `queue ${source.logicalId}`,
          error: `batch item failures: ${failedIds.length}`,
          logs: this.containers.get(source.function.logicalId)?.logs().slice(-4000) ?? '',
        });
    }
    return moved;
  }

  private startStream(): void {
    for (const source of this.stack.eventSources.filter((s) => s.sourceArn === this.stack.streamArn))
      this.feeds.push(this.streamFeed(source));
  }

  private streamFeed(source: SimEventSource): StreamFeed {
    return startStreamFeed({
      engine: this.engine,
      tableName: this.stack.tableName,
      maxRetries: 0,
      logger: {
        error: (...args: unknown[]) =>
          this.failures.push({
            function: source.function.logicalId,
            trigger: 'stream',
            error: args.map(String).join(' '),
            logs: '',
          }),
      },
      // Lambda's filter criteria (the template's) drop records before the function sees them.
      filters: source.filters,
      handler: async (event: DynamoDBStreamEvent) => {
        const records = event.Records.map((r) => ({ ...r, eventSourceARN: this.stack.streamArn }));
        this.endpoint.authorizeService(source.function, 'dynamodb', [
          ['dynamodb:DescribeStream', this.stack.streamArn],
          ['dynamodb:GetShardIterator', this.stack.streamArn],
          ['dynamodb:GetRecords', this.stack.streamArn],
        ]);
        for (let i = 0; i < records.length; i += source.batchSize) {
          const result = await this.invoke(
            source.function,
            { Records: records.slice(i, i + source.batchSize) },
            'stream',
          );
          if (!result.ok) throw new Error(result.error?.message);
          const failed = (result.result?.batchItemFailures ?? []) as unknown[];
          if (failed.length > 0)
            this.failures.push({
              function: source.function.logicalId,
              trigger: 'stream',
              error: `batch item failures: ${JSON.stringify(failed)}`,
              logs: this.containers.get(source.function.logicalId)?.logs().slice(-4000) ?? '',
            });
        }
      },
    });
  }

  private async drainFeeds(): Promise<void> {
    for (const feed of this.feeds) await feed.drain();
  }

  /**
   * Runs everything that follows from what happened so far: stream → publisher → bus → targets → queues, until quiet.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 50; round++) {
      await this.drainFeeds();
      const pending = this.pending.splice(0);
      await Promise.all(pending);
      const polled = await this.pollQueues();
      if (pending.length === 0 && !polled && this.pending.length === 0) {
        await this.drainFeeds();
        if (this.pending.length === 0) return;
      }
    }
    throw new Error('the simulation did not settle in 50 rounds');
  }
}

function routePattern(routePath: string): RegExp {
  return new RegExp(
    `^${routePath
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\\?\{[^}]+\\?\}/g, '([^/]+)')
      .replace(/\{[^}]+\}/g, '([^/]+)')}$`,
  );
}

/** What the route's authorizer puts in requestContext.authorizer. */
function authorizerOf(route: SimRoute, account: string): Record<string, unknown> {
  if (route.authorizationType === 'JWT') {
    const scope = route.scopes.join(' ');
    return {
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: {
          claims: {
            sub: 'sim-user-1',
            scope,
            client_id: 'sim-dashboard-client',
            token_use: 'access',
            iss: 'https://issuer.sim',
            username: 'sim-user-1',
          },
          scopes: route.scopes,
        },
      },
    };
  }
  if (route.authorizationType === 'AWS_IAM') {
    return {
      authorizer: {
        iam: {
          accessKey: 'ASIASIMCALLER0000001',
          accountId: account,
          callerId: 'AROASIMCALLER:operator',
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: `arn:aws:sts::${account}:assumed-role/operator/operator`,
          userId: 'AROASIMCALLER:operator',
        },
      },
    };
  }
  return {};
}
