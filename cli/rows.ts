/** Import rows: the shared reading of a CSV record or an NDJSON line (functions/domain/import-rows.ts). */
import { type CsvColumn, csvColumns as columnsOf, ImportFileError } from '../functions/domain/import-rows';
import { UsageError } from './errors';

export * from '../functions/domain/import-rows';

/** Reads the header row; an unknown or repeated column ends the run before any request (UsageError). */
export function csvColumns(header: string[]): CsvColumn[] {
  try {
    return columnsOf(header);
  } catch (error) {
    if (error instanceof ImportFileError) throw new UsageError(error.message);
    throw error;
  }
}
