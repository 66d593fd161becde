/**
 * Streaming readers of an import file: one SourceItem at a time, pulled by the import's workers, so
 * a file of any length is read in constant memory (the stream pauses while the workers are busy).
 */
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { UsageError } from './errors';
import { csvColumns, rowFromCsv, rowFromJson, type CsvColumn, type SourceItem } from './rows';

export type FileFormat = 'csv' | 'ndjson';

export interface ImportSource {
  items: AsyncIterable<SourceItem>;
  /** Bytes read so far and the file's size (undefined for stdin): the progress fraction. */
  bytesRead(): number;
  size?: number;
  /** Folder against which CSV certificate paths resolve. */
  baseDir: string;
}

/** The format from `--format` or the file's extension. */
export function formatOf(file: string, option?: string): FileFormat {
  const format = option ?? (/\.csv$/i.test(file) ? 'csv' : /\.(ndjson|jsonl|json)$/i.test(file) ? 'ndjson' : undefined);
  if (format !== 'csv' && format !== 'ndjson')
    throw new UsageError(`cannot tell the format of ${file}: name it .csv or .ndjson, or pass --format csv|ndjson`);
  return format;
}

function open(file: string) {
  if (file === '-') return { stream: process.stdin, size: undefined };
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return { stream: createReadStream(file), size };
}

export function openSource(file: string, format: FileFormat): ImportSource {
  const { stream, size } = open(file);
  const baseDir = file === '-' ? process.cwd() : path.dirname(path.resolve(file));
  return format === 'csv' ? csvSource(stream, size, baseDir) : ndjsonSource(stream, size, baseDir);
}

function csvSource(stream: NodeJS.ReadableStream, size: number | undefined, baseDir: string): ImportSource {
  const parser = parse({
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
    bom: true,
    trim: true,
    skip_records_with_error: true,
  });
  stream.pipe(parser);
  let bytes = 0;
  // Malformed records (e.g. an unclosed quote) are skipped by the parser and reported as invalid lines.
  const skipped: SourceItem[] = [];
  parser.on('skip', (error: Error & { lines?: number }) =>
    skipped.push({
      invalid: { line: error.lines ?? 0, err: 'malformed CSV', details: [{ field: '(row)', problem: error.message }] },
    }),
  );
  async function* items(): AsyncGenerator<SourceItem> {
    let columns: CsvColumn[] | undefined;
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number; bytes: number };
    }>) {
      bytes = info.bytes;
      while (skipped.length > 0) yield skipped.shift()!;
      if (!columns) {
        columns = csvColumns(record);
        continue;
      }
      yield rowFromCsv(columns, record, info.lines);
    }
    yield* skipped;
    if (!columns) throw new UsageError('the CSV file has no header row');
  }
  return { items: items(), bytesRead: () => bytes, size, baseDir };
}

function ndjsonSource(stream: NodeJS.ReadableStream, size: number | undefined, baseDir: string): ImportSource {
  let bytes = 0;
  async function* items(): AsyncGenerator<SourceItem> {
    let line = 0;
    for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
      line++;
      bytes += Buffer.byteLength(text) + 1;
      if (text.trim() === '') continue;
      yield rowFromJson(text, line);
    }
  }
  return { items: items(), bytesRead: () => bytes, size, baseDir };
}
