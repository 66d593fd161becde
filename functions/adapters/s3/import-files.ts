/**
 * ImportFiles on an S3 bucket of the stack: clients PUT the file through a presigned URL (the API never
 * carries it), workers read byte ranges of it. The endpoint is configuration (AWS_ENDPOINT_URL), never code.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ImportFiles } from '../../app/ports';

export function s3ImportFiles({ bucket, client }: { bucket: string; client: S3Client }): ImportFiles {
  return {
    uploadUrl: (key, expiresSeconds) =>
      getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresSeconds }),

    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },

    async read(key, start = 0, end) {
      if (end !== undefined && end <= start) return (async function* () {})();
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
  return new S3Client({ region, maxAttempts: 5, requestChecksumCalculation: 'WHEN_REQUIRED' });
}
