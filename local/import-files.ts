/**
 * The local stand-in for the stack's import bucket: files in a folder next to the engine's data (or in
 * memory with IN_MEMORY=true), and an upload URL on the local server that takes a PUT of the file as
 * S3's presigned URL does, with a key-bound token instead of a signature and no 256 KiB body limit.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ImportFiles } from '../functions/app/ports';

/** The local upload path; the key follows it. */
export const LOCAL_UPLOAD_PATH = '/local/uploads/';
/** The largest file the local upload takes (deployed, S3 takes up to 5 GB in one PUT). */
export const LOCAL_UPLOAD_MAX_BYTES = 2 * 1024 ** 3;

export interface LocalImportFiles extends ImportFiles {
  /** Serves `PUT /local/uploads/<key>?token=...`; false when the request is not an upload. */
  serveUpload(req: IncomingMessage, url: URL, res: ServerResponse): Promise<boolean>;
  /** The server's base URL, once it listens. */
  setBaseUrl(url: string): void;
}

export function localImportFiles({ dir }: { dir?: string }): LocalImportFiles {
  const secret = randomBytes(32);
  const memory = new Map<string, Buffer>();
  let baseUrl = 'http://127.0.0.1';
  const tokenOf = (key: string) => createHmac('sha256', secret).update(key).digest('base64url');
  // Keys are ours (imports/<uuid>); the file name is derived, never a path from the request.
  const fileOf = (key: string) => path.join(dir!, encodeURIComponent(key));
  const answer = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  return {
    setBaseUrl(url) {
      baseUrl = url;
    },

    async uploadUrl(key) {
      return `${baseUrl}${LOCAL_UPLOAD_PATH}${encodeURIComponent(key)}?token=${tokenOf(key)}`;
    },

    async put(key, body) {
      if (!dir) return void memory.set(key, Buffer.from(body));
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await pipeline(
        (async function* () {
          yield body;
        })(),
        createWriteStream(fileOf(key)),
      );
    },

    async read(key, start = 0, end) {
      if (end !== undefined && end <= start) return (async function* () {})();
      if (!dir) {
        const file = memory.get(key);
        return (
          file &&
          (async function* () {
            yield file.subarray(start, end);
          })()
        );
      }
      try {
        await stat(fileOf(key));
      } catch {
        return undefined;
      }
      return createReadStream(fileOf(key), { start, ...(end === undefined ? {} : { end: end - 1 }) });
    },

    async serveUpload(req, url, res) {
      if (!url.pathname.startsWith(LOCAL_UPLOAD_PATH)) return false;
      const key = decodeURIComponent(url.pathname.slice(LOCAL_UPLOAD_PATH.length));
      const given = Buffer.from(url.searchParams.get('token') ?? '');
      const wanted = Buffer.from(tokenOf(key));
      if (req.method !== 'PUT') answer(res, 405, { err: 'uploads are PUT', code: 'METHOD_NOT_ALLOWED' });
      else if (given.length !== wanted.length || !timingSafeEqual(given, wanted))
        answer(res, 403, { err: 'the upload URL is not valid', code: 'FORBIDDEN' });
      else if (Number(req.headers['content-length'] ?? 0) > LOCAL_UPLOAD_MAX_BYTES)
        answer(res, 413, { err: `the file is over ${LOCAL_UPLOAD_MAX_BYTES} bytes`, code: 'PAYLOAD_TOO_LARGE' });
      else {
        if (dir) {
          await mkdir(dir, { recursive: true, mode: 0o700 });
          // Written aside, then renamed: a worker never reads a half-uploaded file.
          const partial = `${fileOf(key)}.part`;
          await pipeline(req, createWriteStream(partial));
          await rename(partial, fileOf(key));
        } else {
          const parts: Buffer[] = [];
          for await (const part of req) parts.push(part as Buffer);
          memory.set(key, Buffer.concat(parts));
        }
        res.writeHead(200).end();
      }
      return true;
    },
  };
}
