/**
 * The server-side import's composition root: its items on the table, its files (the stack's S3 bucket,
 * or what the local service installs), the device use cases, and the API's error answers for the report.
 */
import { randomUUID } from 'node:crypto';
import { type ImportDeps, importHandlers, importService } from '../app/imports';
import type { ImportFiles, TaskQueue } from '../app/ports';
import type { TaskHandler } from '../app/tasks';
import { importStore } from '../adapters/dynamodb/import-store';
import { createS3Client, s3ImportFiles } from '../adapters/s3/import-files';
import { errorResponse } from '../http/http-errors';
import { loadImportBucket } from '../runtime/config';
import { createTableContext, installedServices, systemClock, tableContext } from './context';
import { devices } from './devices';

let files: ImportFiles | undefined;

/** Local-service and test hook: where import files are kept (undefined: the bucket named by IMPORT_BUCKET). */
export function setImportFiles(next: ImportFiles | undefined): void {
  files = next;
}

function importFiles(): ImportFiles {
  if (!files) {
    const { bucket, region } = loadImportBucket();
    files = s3ImportFiles({ bucket, client: createS3Client({ region }) });
  }
  return files;
}

/** The API's answer to an error, as the report of a row records it. */
const answerOf: ImportDeps['answerOf'] = (error) => {
  const { statusCode, body } = errorResponse(error);
  return { status: statusCode, ...body };
};

/** Built once per installation: the local service and tests install services over their own table. */
let built: { key: object; deps: ImportDeps } | undefined;
function deps(): ImportDeps {
  const installed = installedServices();
  const key = installed ?? tableContext();
  if (built?.key !== key) {
    const { client, config } = installed ? createTableContext(installed.config) : tableContext();
    built = {
      key,
      deps: {
        imports: importStore({ client, tableName: config.tableName }),
        get files() {
          return importFiles();
        },
        devices: devices(),
        clock: systemClock,
        newId: randomUUID,
        answerOf,
      },
    };
  }
  return built.deps;
}

/** The import routes' use cases; tasks go to `queue` (the job worker's queues). */
export const imports = (queue: () => TaskQueue) =>
  // Not a spread: it would call the `files` getter, and the read route has no bucket (IMPORT_BUCKET).
  importService(
    Object.defineProperties({ queue }, Object.getOwnPropertyDescriptors(deps())) as ImportDeps & {
      queue: () => TaskQueue;
    },
  );

/** The import's task handlers, for the job worker. */
export const importTaskHandlers = (): Record<string, TaskHandler> => importHandlers(deps());
