/**
 * An import file cut into pieces (pure, streaming): a server-side import plans the file once, cutting it
 * at record boundaries every `rowsPerPiece` records, then parallel workers each read one piece (a byte
 * range) and turn it into rows exactly as the command line reads the whole file (import-rows.ts): the
 * same line numbers, the same invalid lines.
 */
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import {
  csvColumns,
  type CsvColumn,
  ImportFileError,
  type ImportFormat,
  rowFromCsv,
  rowFromJson,
  type SourceItem,
} from './import-rows';

export { IMPORT_FORMATS, type ImportFormat } from './import-rows';

/** The options the command line reads CSV with (cli/sources.ts): both sides must agree. */
export const CSV_OPTIONS = {
  relax_column_count: true,
  skip_empty_lines: true,
  bom: true,
  trim: true,
  skip_records_with_error: true,
} as const;

/** A byte range of the file holding whole records, and how many lines precede it. */
export interface FilePiece {
  /** First byte (inclusive). */
  start: number;
  /** Last byte (exclusive). */
  end: number;
  /** Lines of the file before `start` (a row's line number counts from there). */
  linesBefore: number;
}

export interface FilePlan {
  /** The CSV header's cells (undefined for NDJSON). */
  header?: string[];
  pieces: FilePiece[];
  /** Records (rows, not counting the header) in the file. */
  records: number;
}

const NEWLINE = 0x0a;

/**
 * Where each record of the stream ends: its end (bytes from the stream's start, the line break
 * included) and the line it ends on (a quoted CSV field may span lines). The CSV header is a record.
 */
async function* recordEnds(
  format: ImportFormat,
  source: AsyncIterable<Uint8Array>,
): AsyncGenerator<{ bytes: number; lines: number; cells?: string[]; tail?: true }> {
  if (format === 'ndjson') {
    let bytes = 0;
    let lines = 0;
    let blank = true;
    for await (const chunk of source) {
      for (let i = 0; i < chunk.length; i++) {
        const byte = chunk[i]!;
        if (byte === NEWLINE) {
          lines++;
          if (!blank) yield { bytes: bytes + i + 1, lines };
          blank = true;
        } else if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
      }
      bytes += chunk.length;
    }
    if (!blank) yield { bytes, lines: lines + 1 };
    return;
  }
  const parser = parse({ ...CSV_OPTIONS, info: true });
  let total = 0;
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        total += chunk.length;
        if (!parser.write(chunk)) await new Promise((r) => parser.once('drain', r));
      }
      parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();
  for await (const { record, info } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number; bytes: number };
  }>)
    yield { bytes: info.bytes, lines: info.lines, cells: record };
  await feeding;
  // What follows the last record (a malformed one the parser skipped) is read by the last piece too.
  yield { bytes: total, lines: 0, tail: true };
}

/**
 * Cuts the file into pieces of `rowsPerPiece` records. A CSV file's first record is its header, checked
 * here (an unknown or repeated column fails the whole import with ImportFileError, as the command line
 * stops before any request); the pieces then hold the rows only.
 */
export async function planFile(
  format: ImportFormat,
  source: AsyncIterable<Uint8Array>,
  rowsPerPiece: number,
): Promise<FilePlan> {
  const plan: FilePlan = { pieces: [], records: 0 };
  let piece: FilePiece | undefined;
  let inPiece = 0;
  let start = 0;
  let linesBefore = 0;
  for await (const end of recordEnds(format, source)) {
    if (end.tail) {
      if (end.bytes > start && plan.header !== undefined) {
        piece ??= { start, end: start, linesBefore };
        piece.end = end.bytes;
      }
      break;
    }
    if (format === 'csv' && plan.header === undefined) {
      plan.header = end.cells ?? [];
      csvColumns(plan.header);
    } else {
      piece ??= { start, end: start, linesBefore };
      piece.end = end.bytes;
      plan.records++;
      if (++inPiece === rowsPerPiece) {
        plan.pieces.push(piece);
        piece = undefined;
        inPiece = 0;
      }
    }
    start = end.bytes;
    linesBefore = end.lines;
  }
  if (piece) plan.pieces.push(piece);
  if (format === 'csv' && plan.header === undefined) throw new ImportFileError('the CSV file has no header row');
  return plan;
}

/** The rows of one piece: line numbers as in the whole file, malformed records as invalid lines. */
export function rowsOfPiece(format: ImportFormat, text: string, piece: FilePiece, header?: string[]): SourceItem[] {
  if (format === 'ndjson') {
    const items: SourceItem[] = [];
    text.split('\n').forEach((line, i) => {
      if (line.trim() !== '')
        items.push(rowFromJson(line.endsWith('\r') ? line.slice(0, -1) : line, piece.linesBefore + i + 1));
    });
    return items;
  }
  const columns: CsvColumn[] = csvColumns(header ?? []);
  const items: SourceItem[] = [];
  const records = parseSync(text, {
    ...CSV_OPTIONS,
    bom: false,
    info: true,
    on_skip: (error) => {
      items.push({
        invalid: {
          line: piece.linesBefore + Number(error?.lines ?? 0),
          err: 'malformed CSV',
          details: [
            {
              field: '(row)',
              // The parser counts lines from the piece's start: the file's line numbers instead.
              problem: (error?.message ?? 'malformed record').replace(
                /\bline (\d+)/g,
                (_, n: string) => `line ${Number(n) + piece.linesBefore}`,
              ),
            },
          ],
        },
      });
      return undefined;
    },
  }) as unknown as { record: string[]; info: { lines: number } }[];
  for (const { record, info } of records) items.push(rowFromCsv(columns, record, piece.linesBefore + info.lines));
  return items.sort((a, b) => lineOf(a) - lineOf(b));
}

const lineOf = (item: SourceItem) => ('row' in item ? item.row.line : item.invalid.line);
