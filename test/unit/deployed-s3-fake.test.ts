/**
 * The deploy simulation's S3 fake (docs/deployed-simulation.md): the import bucket's calls through the
 * real S3 client and presigner, authorized against each function's role as the template would give it.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '../../functions/adapters/s3/import-files';
import { SimEndpoint } from '../deployed/support/endpoint';
import type { SimFunction, SimStack } from '../deployed/support/template';

const BUCKET = 'devicemanager-dev-importsfiles-sim1';

function role(logicalId: string, objectActions: string[]): SimFunction {
  return {
    logicalId,
    name: logicalId,
    roleArn: `arn:aws:iam::123456789012:role/${logicalId}`,
    environment: {},
    statements: [
      { Effect: 'Allow', Action: objectActions, Resource: [`arn:aws:s3:::${BUCKET}/imports/*`] },
      { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${BUCKET}`] },
    ],
  } as unknown as SimFunction;
}

const route = role('CreateImport', ['s3:PutObject', 's3:GetObject']);
const worker = role('JobWorker', ['s3:GetObject']);
const stack = {
  account: '123456789012',
  region: 'eu-west-1',
  functions: new Map([
    ['route', route],
    ['worker', worker],
  ]),
  buckets: new Set([BUCKET]),
  queues: new Map(),
  secrets: new Map(),
} as unknown as SimStack;

let endpoint: SimEndpoint;
const clients: S3Client[] = [];
/** The adapter's own client, configured from the environment as a function's is (AWS_ENDPOINT_URL, keys). */
async function clientOf(fn: SimFunction): Promise<S3Client> {
  process.env.AWS_ENDPOINT_URL = endpoint.url;
  process.env.AWS_ACCESS_KEY_ID = endpoint.accessKeyOf(fn);
  process.env.AWS_SECRET_ACCESS_KEY = 'sim';
  const client = createS3Client({ region: 'eu-west-1' });
  // Resolved now, while the environment names this function (the client keeps them).
  await client.config.credentials();
  await client.config.endpoint?.();
  clients.push(client);
  return client;
}

const saved = { ...process.env };
beforeAll(async () => {
  endpoint = new SimEndpoint(stack, 'http://127.0.0.1:1', { putEvent() {}, sendMessage: () => 'm' });
  await endpoint.start();
});
afterAll(async () => {
  for (const key of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  for (const c of clients) c.destroy();
  await endpoint.stop();
});

test('objects put by the route are read by the worker, by range; a missing key is NoSuchKey', async () => {
  await (await clientOf(route)).send(new PutObjectCommand({ Bucket: BUCKET, Key: 'imports/a', Body: 'hello world' }));
  const worker$ = await clientOf(worker);
  const part = await worker$.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'imports/a', Range: 'bytes=6-' }));
  expect(await part.Body!.transformToString()).toBe('world');
  await expect(worker$.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'imports/none' }))).rejects.toMatchObject({
    name: 'NoSuchKey',
  });
  await expect(
    worker$.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'imports/a', Range: 'bytes=50-' })),
  ).rejects.toMatchObject({ name: 'InvalidRange' });
  expect(endpoint.denials).toEqual([]);
});

test('a PUT to a presigned URL is stored; a wrong scope or a signer without PutObject is refused', async () => {
  const url = await getSignedUrl(await clientOf(route), new PutObjectCommand({ Bucket: BUCKET, Key: 'imports/c' }), {
    expiresIn: 3600,
  });
  // The adapter's client signs no checksum of the (empty) body into the URL: S3 would refuse the real file.
  expect(new URL(url).searchParams.has('x-amz-checksum-crc32')).toBe(false);
  expect((await fetch(url, { method: 'PUT', body: 'line1\nline2' })).status).toBe(200);
  expect(endpoint.presignedUploads).toEqual([{ signer: 'CreateImport', bucket: BUCKET, key: 'imports/c', bytes: 11 }]);
  expect(endpoint.objects.get(`${BUCKET}/imports/c`)?.toString()).toBe('line1\nline2');

  const otherRegion = await fetch(url.replace('eu-west-1', 'us-east-1'), { method: 'PUT', body: 'x' });
  expect(otherRegion.status).toBe(403);
  expect(await otherRegion.text()).toContain('is not this region');

  const byWorker = await getSignedUrl(
    await clientOf(worker),
    new PutObjectCommand({ Bucket: BUCKET, Key: 'imports/d' }),
    {
      expiresIn: 60,
    },
  );
  expect((await fetch(byWorker, { method: 'PUT', body: 'x' })).status).toBe(403);
  expect(endpoint.denials).toEqual([
    { function: 'JobWorker', action: 's3:PutObject', resource: `arn:aws:s3:::${BUCKET}/imports/d` },
  ]);
  expect(endpoint.objects.has(`${BUCKET}/imports/d`)).toBe(false);
});

test('a checksum the body does not match is BadDigest, and nothing is stored', async () => {
  const url = await getSignedUrl(await clientOf(route), new PutObjectCommand({ Bucket: BUCKET, Key: 'imports/e' }), {
    expiresIn: 60,
  });
  const signed = `${url}&x-amz-checksum-crc32=AAAAAA%3D%3D`;
  const put = await fetch(signed, { method: 'PUT', body: 'not empty' });
  expect(put.status).toBe(400);
  expect(await put.text()).toContain('BadDigest');
  expect(endpoint.objects.has(`${BUCKET}/imports/e`)).toBe(false);
});
