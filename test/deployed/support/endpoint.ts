/**
 * The simulation's AWS endpoint (AWS_ENDPOINT_URL of every simulated function): identifies the
 * calling function by the access key id in the SigV4 Authorization header, authorizes the call
 * against that function's role policies from the template, then answers it: DynamoDB from the
 * embedded engine, EventBridge from the local bus, SQS, IoT, Secrets Manager and S3 from small fakes.
 * S3 also takes a PUT to a presigned URL a function signed: authorized against the signer's role.
 */
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { crc32 } from 'node:zlib';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { evaluate } from './iam';
import type { SimFunction, SimStack } from './template';

export interface AwsCall {
  function: string;
  service: string;
  action: string;
  resources: string[];
  allowed: boolean;
}

export interface Denial {
  function: string;
  action: string;
  resource: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** What the endpoint hands to the rest of the simulation. */
export interface EndpointSinks {
  /** PutEvents entries, as EventBridge events, on the named bus. */
  putEvent(busName: string, event: Record<string, unknown>): void;
  /** SendMessage to a queue (by ARN). */
  sendMessage(queueArn: string, body: string, attributes?: unknown): string;
}

export interface Invocation {
  function: string;
  calls: number;
  /** Calls started while no other call of the invocation was in flight: sequential round trips. */
  rounds: number;
  inFlight: number;
}

/** An action on a resource, with the request context a Condition may test (iam:PassRole's iam:PassedToService). */
type Need = [action: string, resource: string, context?: Readonly<Record<string, string>>];

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID(), ...headers },
  body: JSON.stringify(body),
});

export class SimEndpoint {
  readonly calls: AwsCall[] = [];
  readonly denials: Denial[] = [];
  /** Requests the endpoint could not answer (an operation the fakes do not know). */
  readonly unsupported: string[] = [];
  /** The invocation each function is running now (invocations of one function are serial). */
  readonly current = new Map<string, Invocation>();
  /** IoT fake: things and certificates (id → status). */
  readonly things = new Map<
    string,
    {
      thingName: string;
      thingTypeName?: string;
      attributes: Record<string, string>;
      version: number;
      principals: Set<string>;
    }
  >();
  readonly certificates = new Map<string, string>();
  /** IoT fake, per-DMS provisioning: policies (name → versions, the last the default), targets, groups, templates. */
  readonly iotPolicies = new Map<string, string[]>();
  readonly policyTargets = new Map<string, Set<string>>();
  readonly thingGroups = new Map<string, Set<string>>();
  readonly templates = new Map<string, { body: string; roleArn: string; type?: string }>();
  /** IoT fake: the CA certificates registered (by id). */
  readonly caCertificates = new Set<string>();
  readonly iotCalls: { action: string; target: string; detail?: unknown }[] = [];
  /** IoT data plane fake: the desired state of each shadow (`<thing>` or `<thing>/<shadow name>`). */
  readonly shadows = new Map<string, Record<string, unknown>>();
  /** Secrets Manager fake: ARN → value. */
  readonly secretValues = new Map<string, string>();
  /** S3 fake: `bucket/key` → content. */
  readonly objects = new Map<string, Buffer>();
  /** S3 fake: uploads to presigned URLs, with the function whose role signed each. */
  readonly presignedUploads: { signer: string; bucket: string; key: string; bytes: number }[] = [];
  private readonly byKey = new Map<string, SimFunction>();
  private server!: Server;
  private udp!: Socket;
  url = '';
  xrayAddress = '';

  constructor(
    private readonly stack: SimStack,
    private readonly engineEndpoint: string,
    private readonly sinks: EndpointSinks,
  ) {
    let i = 0;
    for (const fn of stack.functions.values()) this.byKey.set(`ASIASIM${String(++i).padStart(13, '0')}`, fn);
  }

  accessKeyOf(fn: SimFunction): string {
    for (const [key, f] of this.byKey) if (f === fn) return key;
    throw new Error(`no key for ${fn.logicalId}`);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(
        (reply) => {
          res.writeHead(reply.status, reply.headers ?? {});
          res.end(reply.body);
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ __type: 'InternalFailure', message: String(error) }));
        },
      );
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    // The X-Ray daemon: segments arrive over UDP and are dropped.
    this.udp = createSocket('udp4');
    await new Promise<void>((resolve) => this.udp.bind(0, '127.0.0.1', resolve));
    this.xrayAddress = `127.0.0.1:${this.udp.address().port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  /** Checks calls made on a function's behalf by AWS itself (an event source mapping uses the function's role). */
  authorizeService(fn: SimFunction, service: string, needs: Need[]): boolean {
    return this.authorize(fn, service, needs);
  }

  private authorize(fn: SimFunction, service: string, needs: Need[]): boolean {
    let allowed = true;
    for (const [action, resource, context] of needs) {
      const ok = evaluate(fn.statements, action, resource, context) === 'allowed';
      if (!ok) {
        allowed = false;
        this.denials.push({ function: fn.logicalId, action, resource });
      }
    }
    const actions = [...new Set(needs.map(([a]) => a))];
    this.calls.push({
      function: fn.logicalId,
      service,
      action: actions.join('+'),
      resources: [...new Set(needs.map(([, r]) => r))],
      allowed,
    });
    return allowed;
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    // A presigned URL carries its signature in the query: the caller is whoever holds the URL.
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const presigned = !req.headers.authorization && query.has('X-Amz-Credential');
    const auth = presigned ? `Credential=${query.get('X-Amz-Credential')}` : String(req.headers.authorization ?? '');
    const m = /Credential=([A-Z0-9]+)\/\d{8}\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(auth);
    const fn = m ? this.byKey.get(m[1]!) : undefined;
    if (!m || !fn)
      return json(403, {
        __type: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      });
    const service = m[3]!;
    const invocation = this.current.get(fn.logicalId);
    if (invocation) {
      invocation.calls++;
      if (invocation.inFlight === 0) invocation.rounds++;
      invocation.inFlight++;
    }
    try {
      switch (service) {
        case 'dynamodb':
          return await this.dynamodb(fn, req, body);
        case 'events':
          return this.events(fn, req, body);
        case 'sqs':
          return this.sqs(fn, req, body);
        case 'secretsmanager':
          return this.secretsManager(fn, req, body);
        case 'iot':
          return this.iot(fn, req, body);
        case 's3':
          return this.s3(fn, req, body, presigned);
        case 'iotdata':
          return this.iotData(fn, req, body);
        default:
          this.unsupported.push(`${fn.logicalId}: service ${service}`);
          return json(400, { __type: 'UnknownOperationException', message: `the simulation has no ${service}` });
      }
    } finally {
      if (invocation) invocation.inFlight--;
    }
  }

  private denied(fn: SimFunction, needs: Need[]): string {
    const [action, resource] = needs.find(([a, r]) => evaluate(fn.statements, a, r) !== 'allowed')!;
    return (
      `User: arn:aws:sts::${this.stack.account}:assumed-role/` +
      `${fn.roleArn.split('/').pop()}/` +
      `${fn.name} is not authorized ` +
      `to perform: ${action} on resource: ` +
      `${resource} because no identity-based ` +
      `policy allows the ${action} ` +
      `action`
    );
  }

  private tableArn(name: string): string {
    return name.startsWith('arn:') ? name : `arn:aws:dynamodb:${this.stack.region}:${this.stack.account}:table/${name}`;
  }

  private async dynamodb(fn: SimFunction, req: IncomingMessage, body: Buffer): Promise<Reply> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.replace(/^DynamoDB_20120810\./, '');
    const input = JSON.parse(body.toString('utf8') || '{}') as Record<string, any>;
    const needs: Need[] = [];
    const a = (action: string) => `dynamodb:${action}`;
    switch (op) {
      case 'BatchGetItem':
      case 'BatchWriteItem':
        for (const table of Object.keys(input.RequestItems ?? {})) needs.push([a(op), this.tableArn(table)]);
        break;
      case 'TransactWriteItems':
        for (const item of input.TransactItems ?? []) {
          const [kind, spec] = Object.entries(item)[0] as [string, { TableName: string }];
          const action = {
            Put: 'PutItem',
            Update: 'UpdateItem',
            Delete: 'DeleteItem',
            ConditionCheck: 'ConditionCheckItem',
          }[kind];
          if (!action) throw new Error(`TransactWriteItems entry ${kind}`);
          needs.push([a(action), this.tableArn(spec.TableName)]);
        }
        break;
      case 'TransactGetItems':
        for (const item of input.TransactItems ?? []) needs.push([a('GetItem'), this.tableArn(item.Get.TableName)]);
        break;
      case 'Query':
      case 'Scan':
        needs.push([
          a(op),
          input.IndexName
            ? `${this.tableArn(input.TableName)}/index/${input.IndexName}`
            : this.tableArn(input.TableName),
        ]);
        break;
      default:
        needs.push([a(op), this.tableArn(input.TableName)]);
    }
    if (!this.authorize(fn, 'dynamodb', needs))
      return json(400, { __type: 'com.amazon.coral.service#AccessDeniedException', Message: this.denied(fn, needs) });
    const forwarded = await fetch(this.engineEndpoint, {
      method: 'POST',
      headers: {
        'content-type': String(req.headers['content-type'] ?? 'application/x-amz-json-1.0'),
        'x-amz-target': target,
        authorization: String(req.headers.authorization),
        'x-amz-date': String(req.headers['x-amz-date'] ?? ''),
      },
      body,
    });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'x-amz-crc32', 'x-amzn-requestid']) {
      const v = forwarded.headers.get(name);
      if (v) headers[name] = v;
    }
    return { status: forwarded.status, headers, body: await forwarded.text() };
  }

  private events(fn: SimFunction, req: IncomingMessage, body: Buffer): Reply {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^AWSEvents\./, '');
    const input = JSON.parse(body.toString('utf8')) as {
      Entries?: {
        EventBusName?: string;
        Source: string;
        DetailType: string;
        Detail: string;
        Resources?: string[];
        Time?: string;
      }[];
    };
    if (op !== 'PutEvents') {
      this.unsupported.push(`${fn.logicalId}: events ${op}`);
      return json(400, { __type: 'UnknownOperationException', message: op });
    }
    const busName = (name = 'default') => (name.startsWith('arn:') ? name.split('/').pop()! : name);
    const busArn = (name?: string) =>
      `arn:aws:events:${this.stack.region}:${this.stack.account}:event-bus/${busName(name)}`;
    const needs: Need[] = (input.Entries ?? []).map((e) => ['events:PutEvents', busArn(e.EventBusName)]);
    if (!this.authorize(fn, 'events', needs))
      return json(400, { __type: 'AccessDeniedException', message: this.denied(fn, needs) });
    const entries = (input.Entries ?? []).map((e) => {
      const id = randomUUID();
      this.sinks.putEvent(busName(e.EventBusName), {
        version: '0',
        id,
        'detail-type': e.DetailType,
        source: e.Source,
        account: this.stack.account,
        time: e.Time ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.stack.region,
        resources: e.Resources ?? [],
        detail: JSON.parse(e.Detail),
      });
      return { EventId: id };
    });
    return json(200, { FailedEntryCount: 0, Entries: entries }, { 'content-type': 'application/x-amz-json-1.1' });
  }

  private queueArnOf(url: string): string {
    const queue = [...this.stack.queues.values()].find((q) => q.url === url);
    return queue?.arn ?? `arn:aws:sqs:${this.stack.region}:${this.stack.account}:${url.split('/').pop()}`;
  }

  private sqs(fn: SimFunction, req: IncomingMessage, body: Buffer): Reply {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const input = JSON.parse(body.toString('utf8')) as {
      QueueUrl: string;
      MessageBody?: string;
      MessageAttributes?: unknown;
      Entries?: { Id: string; MessageBody: string }[];
    };
    const arn = this.queueArnOf(input.QueueUrl);
    const md5 = (text: string) => createHash('md5').update(text).digest('hex');
    if (op === 'SendMessage') {
      const needs: Need[] = [['sqs:SendMessage', arn]];
      if (!this.authorize(fn, 'sqs', needs))
        return json(400, { __type: 'com.amazonaws.sqs#AccessDenied', message: this.denied(fn, needs) });
      const id = this.sinks.sendMessage(arn, input.MessageBody ?? '', input.MessageAttributes);
      return json(200, { MessageId: id, MD5OfMessageBody: md5(input.MessageBody ?? '') });
    }
    if (op === 'SendMessageBatch') {
      const needs: Need[] = [['sqs:SendMessage', arn]];
      if (!this.authorize(fn, 'sqs', needs))
        return json(400, { __type: 'com.amazonaws.sqs#AccessDenied', message: this.denied(fn, needs) });
      const Successful = (input.Entries ?? []).map((e) => ({
        Id: e.Id,
        MessageId: this.sinks.sendMessage(arn, e.MessageBody),
        MD5OfMessageBody: md5(e.MessageBody),
      }));
      return json(200, { Successful, Failed: [] });
    }
    this.unsupported.push(`${fn.logicalId}: sqs ${op}`);
    return json(400, { __type: 'UnknownOperationException', message: op });
  }

  private secretsManager(fn: SimFunction, req: IncomingMessage, body: Buffer): Reply {
    const op = String(req.headers['x-amz-target'] ?? '').replace(/^secretsmanager\./, '');
    const input = JSON.parse(body.toString('utf8')) as { SecretId: string };
    const arn = input.SecretId.startsWith('arn:')
      ? input.SecretId
      : ([...this.stack.secrets].find(([, name]) => name === input.SecretId)?.[0] ?? input.SecretId);
    const needs: Need[] = [[`secretsmanager:${op}`, arn]];
    if (!this.authorize(fn, 'secretsmanager', needs))
      return json(400, { __type: 'AccessDeniedException', message: this.denied(fn, needs) });
    const value = this.secretValues.get(arn);
    if (value === undefined)
      return json(400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
    if (op !== 'GetSecretValue') {
      this.unsupported.push(`${fn.logicalId}: secretsmanager ${op}`);
      return json(400, { __type: 'UnknownOperationException', message: op });
    }
    return json(
      200,
      {
        ARN: arn,
        Name: arn.split(':').pop(),
        SecretString: value,
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1767225600,
      },
      { 'content-type': 'application/x-amz-json-1.1' },
    );
  }

  private iot(fn: SimFunction, req: IncomingMessage, body: Buffer): Reply {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const arn = (resource: string) => `arn:aws:iot:${this.stack.region}:${this.stack.account}:${resource}`;
    const input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, any>) : {};
    const err = (status: number, type: string, message: string): Reply => ({
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
      body: JSON.stringify({ message }),
    });
    let action: string;
    let needs: Need[];
    if (parts[0] === 'things' && parts.length === 2) {
      action = { POST: 'CreateThing', PATCH: 'UpdateThing', GET: 'DescribeThing', DELETE: 'DeleteThing' }[method] ?? '';
      needs = [[`iot:${action}`, arn(`thing/${parts[1]}`)]];
      if (input.thingTypeName) needs.push([`iot:${action}`, arn(`thingtype/${input.thingTypeName}`)]);
    } else if (parts[0] === 'things' && parts[2] === 'principals') {
      action =
        { PUT: 'AttachThingPrincipal', DELETE: 'DetachThingPrincipal', GET: 'ListThingPrincipals' }[method] ?? '';
      needs = [[`iot:${action}`, arn(`thing/${parts[1]}`)]];
    } else if (
      parts[0] === 'certificate' &&
      (parts[1] === 'register-no-ca' || parts[1] === 'register') &&
      method === 'POST'
    ) {
      // No resource in IAM for a registration: the certificate does not exist before the call.
      action = parts[1] === 'register' ? 'RegisterCertificate' : 'RegisterCertificateWithoutCA';
      needs = [[`iot:${action}`, '*']];
    } else if (parts[0] === 'endpoint' && method === 'GET') {
      // No resource in IAM: it names the account's endpoint.
      action = 'DescribeEndpoint';
      needs = [[`iot:${action}`, '*']];
    } else if (parts[0] === 'certificates' && parts.length === 2) {
      action = { GET: 'DescribeCertificate', PUT: 'UpdateCertificate' }[method] ?? '';
      needs = [[`iot:${action}`, arn(`cert/${parts[1]}`)]];
    } else if (parts[0] === 'registrationcode' && method === 'GET') {
      // Neither call takes a resource in IAM.
      action = 'GetRegistrationCode';
      needs = [[`iot:${action}`, '*']];
    } else if (parts[0] === 'cacertificate' && parts.length === 1 && method === 'POST') {
      action = 'RegisterCACertificate';
      needs = [[`iot:${action}`, '*']];
    } else if (parts[0] === 'policies' && parts.length >= 2) {
      action =
        parts.length === 2
          ? ({ GET: 'GetPolicy', POST: 'CreatePolicy' }[method] ?? '')
          : parts.length === 3
            ? ({ GET: 'ListPolicyVersions', POST: 'CreatePolicyVersion' }[method] ?? '')
            : method === 'DELETE'
              ? 'DeletePolicyVersion'
              : '';
      needs = [[`iot:${action}`, arn(`policy/${parts[1]}`)]];
    } else if (parts[0] === 'target-policies' && parts.length === 2) {
      // Authorised on the target (a certificate here), not on the policy.
      action = { PUT: 'AttachPolicy', POST: 'DetachPolicy' }[method] ?? '';
      const target = String(input.target ?? '');
      needs = [[`iot:${action}`, target]];
    } else if (parts[0] === 'thing-groups' && parts.length === 2 && method === 'PUT') {
      action =
        { addThingToThingGroup: 'AddThingToThingGroup', removeThingFromThingGroup: 'RemoveThingFromThingGroup' }[
          parts[1]!
        ] ?? '';
      needs = [
        [`iot:${action}`, arn(`thinggroup/${input.thingGroupName}`)],
        [`iot:${action}`, arn(`thing/${input.thingName}`)],
      ];
    } else if (parts[0] === 'thing-groups' && parts.length === 2) {
      action = { GET: 'DescribeThingGroup', POST: 'CreateThingGroup' }[method] ?? '';
      needs = [[`iot:${action}`, arn(`thinggroup/${parts[1]}`)]];
    } else if (parts[0] === 'provisioning-templates' && parts.length === 1 && method === 'POST') {
      action = 'CreateProvisioningTemplate';
      // The template names the role AWS IoT will assume: the caller must be allowed to pass it, to AWS IoT.
      needs = [
        [`iot:${action}`, arn(`provisioningtemplate/${input.templateName}`)],
        ['iam:PassRole', String(input.provisioningRoleArn ?? ''), { 'iam:PassedToService': 'iot.amazonaws.com' }],
      ];
    } else if (parts[0] === 'provisioning-templates' && parts.length >= 2) {
      action =
        parts.length === 2
          ? ({ GET: 'DescribeProvisioningTemplate' }[method] ?? '')
          : ({ GET: 'ListProvisioningTemplateVersions', POST: 'CreateProvisioningTemplateVersion' }[method] ?? '');
      needs = [[`iot:${action}`, arn(`provisioningtemplate/${parts[1]}`)]];
    } else {
      action = '';
      needs = [];
    }
    if (!action) {
      this.unsupported.push(`${fn.logicalId}: iot ${method} ${url.pathname}`);
      return err(400, 'InvalidRequestException', `the simulation does not know ${method} ${url.pathname}`);
    }
    if (!this.authorize(fn, 'iot', needs)) return err(403, 'AccessDeniedException', this.denied(fn, needs));
    const name = parts[1]!;
    this.iotCalls.push({ action, target: name, detail: input });
    const thing = this.things.get(name);
    const ok = (value: unknown = {}): Reply => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(value),
    });
    switch (action) {
      case 'DescribeEndpoint':
        return ok({ endpointAddress: `sim-ats.iot.${this.stack.region}.amazonaws.com` });
      case 'CreateThing':
        if (thing) return err(409, 'ResourceAlreadyExistsException', 'exists');
        this.things.set(name, {
          thingName: name,
          thingTypeName: input.thingTypeName,
          attributes: input.attributePayload?.attributes ?? {},
          version: 1,
          principals: new Set(),
        });
        return ok({ thingName: name, thingArn: arn(`thing/${name}`), thingId: randomUUID() });
      case 'DescribeThing':
        if (!thing) return err(404, 'ResourceNotFoundException', 'no thing');
        return ok({
          thingName: name,
          thingTypeName: thing.thingTypeName,
          attributes: thing.attributes,
          version: thing.version,
        });
      case 'UpdateThing':
        if (!thing) return err(404, 'ResourceNotFoundException', 'no thing');
        if (input.expectedVersion !== undefined && input.expectedVersion !== thing.version)
          return err(409, 'VersionConflictException', 'version');
        thing.attributes = input.attributePayload?.merge
          ? { ...thing.attributes, ...input.attributePayload.attributes }
          : (input.attributePayload?.attributes ?? thing.attributes);
        for (const [k, v] of Object.entries(thing.attributes)) if (v === '') delete thing.attributes[k];
        thing.version++;
        return ok();
      case 'AttachThingPrincipal':
      case 'DetachThingPrincipal': {
        if (!thing) return err(404, 'ResourceNotFoundException', 'no thing');
        const principal = String(req.headers['x-amzn-principal'] ?? '');
        if (action === 'AttachThingPrincipal') thing.principals.add(principal);
        else thing.principals.delete(principal);
        return ok();
      }
      case 'ListThingPrincipals':
        return ok({ principals: [...(thing?.principals ?? [])] });
      case 'DescribeCertificate': {
        const status = this.certificates.get(name);
        if (!status) return err(404, 'ResourceNotFoundException', 'no certificate');
        return ok({ certificateDescription: { certificateId: name, certificateArn: arn(`cert/${name}`), status } });
      }
      case 'RegisterCertificate':
      case 'RegisterCertificateWithoutCA': {
        // AWS IoT names a certificate by the SHA-256 of its DER; the same certificate twice is ResourceAlreadyExists.
        const id = new X509Certificate(String(input.certificatePem)).fingerprint256.replace(/:/g, '').toLowerCase();
        this.iotCalls[this.iotCalls.length - 1]!.target = id;
        if (this.certificates.has(id)) return err(409, 'ResourceAlreadyExistsException', 'certificate exists');
        this.certificates.set(id, String(input.status ?? 'INACTIVE'));
        return ok({ certificateId: id, certificateArn: arn(`cert/${id}`) });
      }
      case 'UpdateCertificate': {
        if (!this.certificates.has(name)) return err(404, 'ResourceNotFoundException', 'no certificate');
        this.certificates.set(name, url.searchParams.get('newStatus') ?? '');
        return ok();
      }
      default:
        return this.iotProvisioning(action, name, input, ok, err);
    }
  }

  /** The per-DMS provisioning calls (docs/iot-provisioning.md): policies, thing groups, templates. */
  private iotProvisioning(
    action: string,
    name: string,
    input: Record<string, any>,
    ok: (value?: unknown) => Reply,
    err: (status: number, type: string, message: string) => Reply,
  ): Reply {
    const versions = this.iotPolicies.get(name);
    switch (action) {
      case 'GetRegistrationCode':
        return ok({ registrationCode: 'sim-registration-code' });
      case 'RegisterCACertificate': {
        // AWS IoT checks the proof: the verification certificate carries the code and is signed by the CA.
        const ca = new X509Certificate(String(input.caCertificate));
        const proof = input.verificationCertificate
          ? new X509Certificate(String(input.verificationCertificate))
          : undefined;
        if (
          input.certificateMode !== 'SNI_ONLY' &&
          !(proof?.subject.includes('sim-registration-code') && proof.verify(ca.publicKey))
        )
          return err(400, 'CertificateValidationException', 'verification certificate');
        const id = ca.fingerprint256.replace(/:/g, '').toLowerCase();
        if (this.caCertificates.has(id)) return err(409, 'ResourceAlreadyExistsException', 'CA exists');
        this.caCertificates.add(id);
        return ok({
          certificateId: id,
          certificateArn: `arn:aws:iot:${this.stack.region}:${this.stack.account}:cacert/${id}`,
        });
      }
      case 'GetPolicy':
        if (!versions) return err(404, 'ResourceNotFoundException', 'no policy');
        return ok({ policyName: name, policyDocument: versions.at(-1), defaultVersionId: String(versions.length) });
      case 'CreatePolicy':
        if (versions) return err(409, 'ResourceAlreadyExistsException', 'policy exists');
        this.iotPolicies.set(name, [String(input.policyDocument)]);
        return ok({ policyName: name, policyVersionId: '1' });
      case 'CreatePolicyVersion':
        if (!versions) return err(404, 'ResourceNotFoundException', 'no policy');
        if (versions.length >= 5) return err(409, 'VersionsLimitExceededException', 'five versions');
        versions.push(String(input.policyDocument));
        return ok({ policyVersionId: String(versions.length), isDefaultVersion: true });
      case 'AttachPolicy':
      case 'DetachPolicy': {
        if (!versions) return err(404, 'ResourceNotFoundException', 'no policy');
        const targets = this.policyTargets.get(name) ?? new Set<string>();
        if (action === 'AttachPolicy') targets.add(String(input.target));
        else targets.delete(String(input.target));
        this.policyTargets.set(name, targets);
        return ok();
      }
      case 'DescribeThingGroup':
        if (!this.thingGroups.has(name)) return err(404, 'ResourceNotFoundException', 'no thing group');
        return ok({ thingGroupName: name, version: 1 });
      case 'CreateThingGroup':
        if (!this.thingGroups.has(name)) this.thingGroups.set(name, new Set());
        return ok({ thingGroupName: name });
      case 'AddThingToThingGroup':
      case 'RemoveThingFromThingGroup': {
        const group = this.thingGroups.get(String(input.thingGroupName));
        if (!group || !this.things.has(String(input.thingName)))
          return err(404, 'ResourceNotFoundException', 'no thing group or thing');
        if (action === 'AddThingToThingGroup') group.add(String(input.thingName));
        else group.delete(String(input.thingName));
        return ok();
      }
      case 'DescribeProvisioningTemplate': {
        const template = this.templates.get(name);
        if (!template) return err(404, 'ResourceNotFoundException', 'no template');
        return ok({ templateName: name, templateBody: template.body, provisioningRoleArn: template.roleArn });
      }
      case 'CreateProvisioningTemplate': {
        const templateName = String(input.templateName);
        if (this.templates.has(templateName)) return err(409, 'ResourceAlreadyExistsException', 'template exists');
        this.templates.set(templateName, {
          body: String(input.templateBody),
          roleArn: String(input.provisioningRoleArn),
          type: input.type,
        });
        return ok({ templateName });
      }
      case 'CreateProvisioningTemplateVersion': {
        const template = this.templates.get(name);
        if (!template) return err(404, 'ResourceNotFoundException', 'no template');
        template.body = String(input.templateBody);
        return ok({ templateName: name, isDefaultVersion: true });
      }
    }
    return err(400, 'InvalidRequestException', action);
  }

  /** The IoT data plane: UpdateThingShadow (classic, or named with `?name=`), a merge of the desired state. */
  private iotData(fn: SimFunction, req: IncomingMessage, body: Buffer): Reply {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (!(req.method === 'POST' && parts[0] === 'things' && parts[2] === 'shadow' && parts.length === 3)) {
      this.unsupported.push(`${fn.logicalId}: iotdata ${req.method} ${url.pathname}`);
      return json(400, { message: `the simulation does not know ${req.method} ${url.pathname}` });
    }
    const shadowName = url.searchParams.get('name');
    const key = shadowName ? `${parts[1]}/${shadowName}` : parts[1]!;
    // A named shadow's resource is its thing's ARN followed by /<shadow name>.
    const needs: Need[] = [
      ['iot:UpdateThingShadow', `arn:aws:iot:${this.stack.region}:${this.stack.account}:thing/${key}`],
    ];
    if (!this.authorize(fn, 'iotdata', needs)) return json(403, { message: this.denied(fn, needs) });
    const input = JSON.parse(body.toString('utf8')) as { state?: { desired?: Record<string, unknown> } };
    this.iotCalls.push({ action: 'UpdateThingShadow', target: key, detail: input });
    const desired = { ...(this.shadows.get(key) ?? {}) };
    for (const [k, v] of Object.entries(input.state?.desired ?? {}))
      if (v === null) delete desired[k];
      else desired[k] = v;
    this.shadows.set(key, desired);
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ state: { desired } }),
    };
  }

  /**
   * S3: PutObject and GetObject (with a Range) on the stack's buckets, path-style (the endpoint is an
   * address). A presigned PUT is checked for the shape of its signature (algorithm, scope of this
   * region and S3, an expiry within seven days and not past, the host signed) and authorized against
   * the signer's role, as S3 does; the secret keys are the containers' own, so the signature itself is not.
   */
  private s3(fn: SimFunction, req: IncomingMessage, body: Buffer, presigned: boolean): Reply {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const xml = (status: number, code: string, message: string): Reply => ({
      status,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() },
      body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    });
    const host = String(req.headers.host ?? '').split(':')[0]!;
    const hostBucket = [...this.stack.buckets].find((b) => host.startsWith(`${b}.`));
    const parts = url.pathname.split('/').slice(1);
    const bucket = hostBucket ?? decodeURIComponent(parts.shift() ?? '');
    const key = parts.map(decodeURIComponent).join('/');
    if (!this.stack.buckets.has(bucket)) return xml(404, 'NoSuchBucket', `the template has no bucket ${bucket}`);
    const objectArn = `arn:aws:s3:::${bucket}/${key}`;
    if (presigned) {
      const problem = this.presignProblem(url.searchParams, method);
      if (problem) return xml(403, 'AccessDenied', problem);
    }
    if (method === 'PUT' && key) {
      const needs: Need[] = [['s3:PutObject', objectArn]];
      if (!this.authorize(fn, 's3', needs)) return xml(403, 'AccessDenied', this.denied(fn, needs));
      const content = /aws-chunked/.test(String(req.headers['content-encoding'] ?? '')) ? unchunk(body) : body;
      const expected = req.headers['x-amz-checksum-crc32'] ?? url.searchParams.get('x-amz-checksum-crc32');
      if (expected) {
        const actual = Buffer.alloc(4);
        actual.writeUInt32BE(crc32(content));
        if (actual.toString('base64') !== expected)
          return xml(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
      }
      this.objects.set(`${bucket}/${key}`, content);
      if (presigned) this.presignedUploads.push({ signer: fn.logicalId, bucket, key, bytes: content.length });
      const etag = `"${createHash('md5').update(content).digest('hex')}"`;
      return { status: 200, headers: { etag, 'x-amz-request-id': randomUUID() }, body: '' };
    }
    if (method === 'GET' && key && !presigned) {
      const needs: Need[] = [['s3:GetObject', objectArn]];
      if (!this.authorize(fn, 's3', needs)) return xml(403, 'AccessDenied', this.denied(fn, needs));
      const content = this.objects.get(`${bucket}/${key}`);
      if (!content) {
        // Without s3:ListBucket, S3 does not say whether the key exists.
        const list: Need[] = [['s3:ListBucket', `arn:aws:s3:::${bucket}`]];
        if (!this.authorize(fn, 's3', list)) return xml(403, 'AccessDenied', this.denied(fn, list));
        return xml(404, 'NoSuchKey', 'The specified key does not exist.');
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
      if (!range) return { status: 200, headers: { 'content-length': String(content.length) }, body: content };
      const start = Number(range[1]);
      const end = Math.min(range[2] ? Number(range[2]) : content.length - 1, content.length - 1);
      if (start >= content.length) return xml(416, 'InvalidRange', 'The requested range is not satisfiable');
      const slice = content.subarray(start, end + 1);
      return {
        status: 206,
        headers: { 'content-range': `bytes ${start}-${end}/${content.length}`, 'content-length': String(slice.length) },
        body: slice,
      };
    }
    this.unsupported.push(`${fn.logicalId}: s3 ${method} ${url.pathname}${url.search}`);
    return xml(400, 'NotImplemented', `the simulation does not know ${method} ${url.pathname}`);
  }

  /** What is wrong with a presigned URL's signature parameters (undefined: well formed and not expired). */
  private presignProblem(q: URLSearchParams, method: string): string | undefined {
    const [, day, region, service, terminator] = String(q.get('X-Amz-Credential')).split('/');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    const expires = Number(q.get('X-Amz-Expires'));
    if (method !== 'PUT') return `a presigned ${method} is not part of the import flow`;
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return 'X-Amz-Algorithm must be AWS4-HMAC-SHA256';
    if (!date || date.slice(1, 4).join('') !== day) return 'X-Amz-Date does not match the credential scope';
    if (region !== this.stack.region || service !== 's3' || terminator !== 'aws4_request')
      return `credential scope ${day}/${region}/${service}/${terminator} is not this region's S3`;
    if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) return 'X-Amz-Expires must be 1..604800';
    const signedAt = Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!);
    if (Date.now() > signedAt + expires * 1000) return 'Request has expired';
    if (!(q.get('X-Amz-SignedHeaders') ?? '').split(';').includes('host')) return 'the host header is not signed';
    if (!/^[0-9a-f]{64}$/.test(q.get('X-Amz-Signature') ?? '')) return 'X-Amz-Signature is not a SHA-256 HMAC';
    return undefined;
  }
}

/** The payload of an `aws-chunked` body: `<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0\r\n<trailers>`. */
function unchunk(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!size) return Buffer.concat(out);
    out.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
