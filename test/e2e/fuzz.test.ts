/**
 * Fuzzing every route of functions/http/routes.ts (iterated, so routes added later are
 * covered) against the local service: generated path parameters, filters, bookmarks, headers and
 * bodies, valid-looking and hostile (JSONPath expressions, deep JSON, PEM armor, mutated certificate
 * DER among them). Asserts no 5xx, and that a rejected write changes nothing: the
 * whole table (devices, events, statistics counters, groups, outbox) is compared before and after.
 */
import { DynamoDBClient, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { HTTP_ROUTES, type HttpRoute } from '../../functions/http/routes';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { deepJsonText, JSONPATH_PIECES, mutateDer, pemArmor } from '../support/hostile';
import { call, startTestService } from '../support/http';
import { bySize } from '../support/tier';

const RUNS = Number(process.env.FUZZ_RUNS ?? bySize(300, 2000));

let service: LocalService;
let client: DynamoDBClient;
let pem: string;
beforeAll(async () => {
  service = await startTestService();
  client = new DynamoDBClient({ endpoint: service.engine!.endpoint, region: 'us-east-1' });
  pem = (await certificate({ notAfter: '2099-01-01T00:00:00Z' })).pem;
  const ok = (r: { status: number }) => expect(r.status).toBeLessThan(300);
  ok(
    await call(service.url, 'POST', '/v2/devices', {
      id: 'dev-a',
      dms_id: 'dms-1',
      tags: ['eu', 'sensor'],
      metadata: { fw: '1.0', n: 3, loc: { b: 'A' }, toString: 'own' },
    }),
  );
  ok(await call(service.url, 'POST', '/v2/devices', { id: 'dev-b', dms_id: 'dms-2' }));
  ok(await call(service.url, 'PUT', '/v2/devices/dev-b/idslot', { certificate: pem }));
  ok(
    await call(service.url, 'PUT', '/v2/devices/dev-b/slots/token', {
      type: 'TOKEN',
      secret: 'arn:aws:secretsmanager:eu-west-1:1:secret:x',
    }),
  );
  ok(
    await call(service.url, 'POST', '/v2/device-groups', {
      id: 'grp-a',
      name: 'A',
      criteria: [{ field: 'tags', operand: 'ct', value: 'eu' }],
    }),
  );
  ok(await call(service.url, 'PUT', '/v2/dms/dms-1', { settings: { preventive_delta: '60d', critical_delta: '14d' } }));
  // Background work (the start-up sweep and the policy job it leaves) settles before the first snapshot.
  await service.sweepNow();
  await service.sweepNow();
});
afterAll(async () => {
  client.destroy();
  await service.stop();
});

/**
 * Every item of the table, in key order: what a rejected request must leave unchanged. The change feed
 * drains first: counters follow the stream, so an earlier accepted write may still be counting.
 */
async function snapshot(): Promise<string> {
  await service.events.drain();
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new ScanCommand({ TableName: service.tableName, ExclusiveStartKey: start }));
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const key = (i: Record<string, AttributeValue>) => `${i.pk?.S}\u0000${i.sk?.S}`;
  return JSON.stringify(items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));
}

// Generators.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const weird = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '%',
    '%00',
    '..',
    '../x',
    'toString',
    '__proto__',
    'constructor',
    'identity',
    '-1',
    '1e3',
    'x'.repeat(300),
    '\u20ac\ud800',
    'a/b',
    'a?b',
    'a#b',
  ),
);
const pathParam = (name: string) =>
  name === 'n'
    ? fc.oneof(fc.constantFrom('0', '1', '2', '-1', '99999999999999999999', 'NaN', '0x1', '1.5'), weird)
    : name === 'slot'
      ? fc.oneof(fc.constantFrom('identity', 'token', 'other'), weird)
      : fc.oneof(fc.constantFrom('dev-a', 'dev-b', 'grp-a', 'dms-1', 'missing'), weird);

const filterField = fc.constantFrom(
  'id',
  'dms_owner',
  'icon',
  'status',
  'tags',
  'creation_timestamp',
  'identity.expiration_date',
  'metadata.fw',
  'metadata.toString',
  'metadata.__proto__',
  'metadata.loc.b',
  'metadata.',
  'metadata..x',
  'colour',
  '',
);
const filterOp = fc.constantFrom(
  'eq',
  'ne',
  'ct',
  'nc',
  'in',
  'nin',
  'eq_ic',
  'ct_ic',
  'bf',
  'af',
  'gt',
  'ge',
  'lt',
  'le',
  'exists',
  'zz',
  '',
);
const filterValue = fc.oneof(
  fc.constantFrom(
    'ACTIVE',
    'eu',
    'true',
    'false',
    '1.0',
    '3',
    '2026-01-01T00:00:00Z',
    'x,y',
    '{"a":1}',
    '[1,2]',
    'null',
    '',
  ),
  weird,
);
/** JSONPath expressions from valid and broken pieces (Lamassu's `metadata[jsonpath]` filters). */
const jsonPath = fc.array(fc.constantFrom(...JSONPATH_PIECES), { maxLength: 8 }).map((pieces) => `$${pieces.join('')}`);
const filter = fc.oneof(
  fc.tuple(filterField, filterOp, filterValue).map(([f, o, v]) => `${f}[${o}]${v}`),
  fc.tuple(fc.constantFrom('metadata', 'identity_slot'), jsonPath).map(([f, p]) => `${f}[jsonpath]${p}`),
  fc.constantFrom('constructor[eq]x', '__proto__[eq]x', 'toString[eq]x', 'hasOwnProperty[eq]x', 'id[constructor]x'),
  weird,
);
const bookmark = fc.oneof(
  fc.constantFrom('', 'x.y', 'a.b.c', 'eyJxIjoiIiwicCI6IiJ9.AAAAAAAAAAAAAAAAAAAAAA', '.'),
  fc.base64String({ maxLength: 200 }).map((s) => `${s.replace(/=/g, '')}.${s.slice(0, 22)}`),
  weird,
);
const query = fc
  .record(
    {
      filter: fc.array(filter, { maxLength: 3 }),
      page_size: fc.oneof(fc.constantFrom('1', '25', '1000', '0', '1001', '-1', 'x', '1.5'), weird),
      bookmark,
      sort_by: fc.oneof(fc.constantFrom('id', 'creation_timestamp', 'identity.expiration_date'), weird),
      sort_mode: fc.constantFrom('asc', 'desc', 'up'),
      cascade: fc.constantFrom('true', 'false', 'x'),
    },
    { requiredKeys: [] },
  )
  .map((q) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) for (const value of Array.isArray(v) ? v : [v]) params.append(k, value);
    return params.toString();
  });

const jsonValue = fc.jsonValue({ maxDepth: 4 });
const deviceLike = fc.record(
  {
    id: pathParam('id'),
    dms_id: pathParam('id'),
    tags: fc.oneof(fc.array(fc.string({ maxLength: 130 }), { maxLength: 52 }), jsonValue),
    metadata: fc.oneof(
      fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('toString', '__proto__', 'constructor')), jsonValue, {
        maxKeys: 5,
      }),
      jsonValue,
    ),
    icon: fc.oneof(fc.string({ maxLength: 70 }), jsonValue),
    icon_color: fc.oneof(fc.constantFrom('#25ee32', '#fff', 'red'), jsonValue),
  },
  { requiredKeys: [] },
);
const jsonPatch = fc.array(
  fc.record(
    {
      op: fc.constantFrom('add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus'),
      path: fc.constantFrom(
        '/tags/-',
        '/tags/0',
        '/tags/99',
        '/metadata/x',
        '/metadata/toString',
        '/metadata/__proto__',
        '/metadata/loc/b',
        '/icon',
        '/id',
        '/status',
        '',
        '/',
        'metadata',
      ),
      from: fc.constantFrom('/metadata/fw', '/metadata/toString', '/metadata/constructor', '/tags/0', '/id'),
      value: jsonValue,
    },
    { requiredKeys: ['op'] },
  ),
  { maxLength: 4 },
);
/** Certificates: PEM armor only (repeated or near-miss markers) and DER with one byte changed. */
const certificateText = fc.oneof(
  fc.constant('PEM'),
  fc.string(),
  fc
    .tuple(
      fc.integer({ min: 1, max: 16 * 1024 }),
      fc.constantFrom(
        '-----BEGIN CERTIFICATE-----\n',
        '-----BEGIN CERTIFICATE-----',
        '-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\n',
      ),
    )
    .map(([n, unit]) => pemArmor(n, unit)),
  fc.tuple(fc.nat(), fc.nat({ max: 255 })).map(([at, value]) => mutateDer(pem, at, value)),
);
const otherBodies = fc.oneof(
  fc.record({ certificate: certificateText }, { requiredKeys: [] }),
  fc.record({ versions: fc.record({ '0': certificateText }) }, { requiredKeys: [] }),
  fc.record(
    {
      type: fc.constantFrom('TOKEN', 'SSH_KEY', 'OTHER', 'x509', 'bad'),
      secret: fc.oneof(fc.string({ maxLength: 50 }), jsonValue),
      expiration_date: fc.oneof(fc.constantFrom('2030-01-01T00:00:00Z', '2000-01-01T00:00:00Z', 'never'), jsonValue),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    { reason: fc.oneof(fc.constantFrom('KeyCompromise', 'superseded', 'nope'), jsonValue) },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      name: fc.oneof(fc.string({ maxLength: 20 }), jsonValue),
      settings: fc.oneof(
        fc.record({
          preventive_delta: fc.constantFrom('60d', '1h', 'x', '0d'),
          critical_delta: fc.constantFrom('14d', '90d', ''),
        }),
        jsonValue,
      ),
    },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      id: pathParam('id'),
      name: fc.oneof(fc.string({ maxLength: 20 }), jsonValue),
      parent_id: fc.oneof(fc.constantFrom('grp-a', 'missing', null), jsonValue),
      criteria: fc.oneof(
        fc.array(fc.record({ field: filterField, operand: filterOp, value: filterValue }), { maxLength: 3 }),
        jsonValue,
      ),
    },
    { requiredKeys: [] },
  ),
);
const body = fc.oneof(
  { weight: 3, arbitrary: deviceLike.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: jsonPatch.map((b) => JSON.stringify(b)) },
  { weight: 3, arbitrary: otherBodies.map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: jsonValue.map((b) => JSON.stringify(b)) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '{',
      'null',
      '[]',
      '{"a":1}{',
      `{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      '\u0000',
    ),
  },
  // Deep JSON where metadata goes: merge patches, creations, JSON patch values, Lamassu patches.
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 1, max: 6000 }),
        fc.constantFrom(
          '{"metadata":%}',
          '{"id":"deep","dms_id":"d","metadata":%}',
          '[{"op":"add","path":"/metadata/x","value":%}]',
          '{"patches":[{"op":"add","path":"/x","value":%}]}',
        ),
      )
      .map(([depth, shape]) => shape.replace('%', deepJsonText(depth))),
  },
);
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/merge-patch+json',
      'application/json-patch+json',
      'text/plain',
      'application/json; charset=utf-8',
      '',
    ),
    'if-match': fc.oneof(
      fc.constantFrom('"1"', '"2"', '*', 'W/"3"', '"x"', '1', '"99999999999999999999"'),
      fc.stringMatching(/^[\x21-\x7e]{0,30}$/),
    ),
  },
  { requiredKeys: [] },
);

const request = fc.constantFrom(...HTTP_ROUTES).chain((route: HttpRoute) =>
  fc.record({
    route: fc.constant(route),
    params: fc.record(
      Object.fromEntries([...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => [name!, pathParam(name!)])),
    ),
    query,
    headers,
    body: fc.option(body, { nil: undefined, freq: 4 }),
  }),
);

it(
  `${RUNS} generated requests over every route: no 5xx, and a rejected write changes nothing`,
  async () => {
    const seen = new Set<string>();
    let state = await snapshot();
    await fc.assert(
      fc.asyncProperty(request, async ({ route, params, query, headers, body }) => {
        seen.add(`${route.method} ${route.path}`);
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent((params[name] as string).replace(LONE_SURROGATE, '\ufffd')),
        );
        const res = await fetch(`${service.url}${path}${query ? `?${query}` : ''}`, {
          method: route.method,
          headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== '')),
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : body,
        });
        const text = await res.text();
        expect([route.method, path, res.status, text.slice(0, 300)]).toEqual([
          route.method,
          path,
          expect.any(Number),
          expect.any(String),
        ]);
        if (res.status >= 500)
          throw new Error(
            `${route.method} ${path}?${query} ${JSON.stringify(headers)} ` +
              `${body?.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`,
          );
        if (route.table !== 'write') return;
        const after = await snapshot();
        if (res.status >= 400 && after !== state)
          throw new Error(`rejected ${route.method} ${path} (${res.status} ${text.slice(0, 200)}) changed the table`);
        state = after;
      }),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261202), endOnFailure: true },
    );
    expect([...seen].sort()).toEqual(HTTP_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  },
  bySize(180_000, 900_000),
);
