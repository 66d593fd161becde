/**
 * ImportFiles on an S3 bucket of the stack: clients PUT the file through a presigned URL (the API never
 * carries it), workers read byte ranges of it. The endpoint is configuration (AWS_ENDPOINT_URL), never code.
 */
import type * as S3Sdk from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as Presigner from '@aws-sdk/s3-request-presigner';
import type { ImportFiles } from '../../app/ports';

let sdk: typeof S3Sdk | undefined;
/**
 * `@aws-sdk/client-s3`, required on first use (the Lambda runtime provides it): at init it put every
 * job and import route, the sweeper and the job worker at 1.6–1.8× a bare DynamoDB client
 * (docs/cold-starts.md); only the import routes and tasks that touch a file load it.
 */
const s3Sdk = (): typeof S3Sdk => (sdk ??= require('@aws-sdk/client-s3') as typeof S3Sdk);
const presigner = (): typeof Presigner => require('@aws-sdk/s3-request-presigner') as typeof Presigner;

export function s3ImportFiles({ bucket, client }: { bucket: string; client: S3Client }): ImportFiles {
  return {
    uploadUrl: (key, expiresSeconds) =>
      presigner().getSignedUrl(client, new (s3Sdk().PutObjectCommand)({ Bucket: bucket, Key: key }), {
        expiresIn: expiresSeconds,
      }),

    async put(key, body) {
      await client.send(new (s3Sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: body }));
    },

    async read(key, start = 0, end) {
      if (end !== undefined && end <= start) return (async function* () {})();
      const { GetObjectCommand, NoSuchKey, S3ServiceException } = s3Sdk();
      try {
        const out = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            Range: `bytes=${start}-${end === undefined ? '' : end - 1}`,
          }),
        );
        return out.Body as AsyncIterable<Uint8Array>;
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        // A range past the end of an empty file: nothing to read.
        if (error instanceof S3ServiceException && error.name === 'InvalidRange') return (async function* () {})();
        throw error;
      }
    },
  };
}

export function createS3Client({ region }: { region?: string } = {}): S3Client {
  // WHEN_REQUIRED: by default (WHEN_SUPPORTED) the SDK signs the CRC32 of the empty body into a presigned
  // PutObject URL (x-amz-checksum-crc32=AAAAAA==), and S3 then refuses any real file PUT to it (BadDigest).
  return new (s3Sdk().S3Client)({ region, maxAttempts: 5, requestChecksumCalculation: 'WHEN_REQUIRED' });
}
