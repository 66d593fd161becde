/**
 * Import rows (pure): a CSV record or an NDJSON line becomes the body of `POST /v2/devices`, plus the
 * identity certificate to bind. Values are checked by the API, which names the offending fields;
 * here only what the API cannot see is reported (a line that is not JSON, a ragged CSV record).
 * The command line's import and the server-side import (app/imports.ts) read rows alike.
 */
import { DomainError } from './errors';

/** The file as a whole cannot be imported (a CSV header naming an unknown column): no row is tried. */
export class ImportFileError extends DomainError {
  readonly code = 'INVALID_IMPORT_FILE';
}

/** The file formats an import reads. */
export const IMPORT_FORMATS = ['csv', 'ndjson'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface FieldProblem {
  field: string;
  problem: string;
}

/** The fields an import may set, besides `id` and `dms_id`. */
export const SHADOW_FIELDS = ['tags', 'metadata', 'icon', 'icon_color'] as const;
export type ShadowField = (typeof SHADOW_FIELDS)[number];

export interface DeviceRow {
  line: number;
  id?: string;
  /** The body of `POST /v2/devices`; its shadow fields are the ones the row sets. */
  create: Record<string, unknown>;
  /**
   * PEM text (NDJSON, or a CSV cell holding the PEM itself) or a file path (CSV, resolved against the
   * CSV's folder; only the command line can read it) to bind as identity.
   */
  certificate?: { pem: string } | { file: string };
  /** The identity is to be revoked with this RFC 5280 reason after binding (an export of a revoked device). */
  revoked?: string;
  /** The row describes a decommissioned device (an export of one): decommission it after creating it. */
  decommissioned?: boolean;
}

export const OUTCOMES = ['created', 'unchanged', 'updated', 'conflict', 'invalid', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];
/** Outcomes that leave the device as its row describes. */
export const GOOD_OUTCOMES: readonly Outcome[] = ['created', 'unchanged', 'updated'];

export interface LineResult {
  line: number;
  id?: string;
  outcome: Outcome;
  /** HTTP status of the refusing answer. */
  status?: number;
  code?: string;
  err?: string;
  details?: FieldProblem[];
  /** Fields that differ from the existing device (conflict). */
  differences?: string[];
}

export interface InvalidLine {
  line: number;
  id?: string;
  err: string;
  details: FieldProblem[];
}

export type SourceItem = { row: DeviceRow } | { invalid: InvalidLine };

/** Fields of an exported device that the server computes: an import ignores them. */
const READ_ONLY_FIELDS = ['status', 'creation_timestamp', 'events', 'version', 'identity', 'slots', 'dms_owner'];

/** Where a CSV column goes. */
export type CsvColumn =
  | { kind: 'id' | 'dms_id' | 'tags' | 'icon' | 'icon_color' | 'certificate' }
  | { kind: 'metadata'; path: string[] };

const PLAIN_COLUMNS = new Set(['id', 'dms_id', 'tags', 'icon', 'icon_color', 'certificate']);

/** Reads the header row; an unknown or repeated column ends the run before any request (ImportFileError). */
export function csvColumns(header: string[]): CsvColumn[] {
  const seen = new Set<string>();
  const columns = header.map((raw): CsvColumn => {
    const name = raw.trim();
    if (seen.has(name)) throw new ImportFileError(`CSV header: column '${name}' appears twice`);
    seen.add(name);
    if (PLAIN_COLUMNS.has(name)) return { kind: name as 'id' };
    const path = /^metadata\.(.+)$/.exec(name)?.[1]?.split('.');
    if (path && path.every((p) => p !== '')) return { kind: 'metadata', path };
    throw new ImportFileError(
      `CSV header: unknown column '${name}' (expected id, dms_id, ` +
        `tags, icon, icon_color, certificate, metadata.<path>)`,
    );
  });
  if (!seen.has('id')) throw new ImportFileError("CSV header: no 'id' column");
  return columns;
}

/** A metadata cell: JSON when it parses (`3`, `true`, `"x"`, `{...}`), else the text itself. */
export function metadataValue(cell: string): unknown {
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): boolean {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined) node = node[key] = {} as Record<string, unknown>;
    else if (typeof next === 'object' && next !== null && !Array.isArray(next)) node = next as Record<string, unknown>;
    else return false;
  }
  const last = path.at(-1)!;
  if (node[last] !== undefined) return false;
  node[last] = value;
  return true;
}

/**
 * One CSV record. Empty cells are left out (the API then applies its defaults or reports a missing
 * `id`/`dms_id`); a `tags` column always sets the tags (`;`-separated, empty = none) and metadata
 * columns always set the metadata (empty cells = absent keys).
 */
export function rowFromCsv(columns: CsvColumn[], cells: string[], line: number): SourceItem {
  const idAt = columns.findIndex((c) => c.kind === 'id');
  const id = cells[idAt] || undefined;
  if (cells.length !== columns.length) {
    return {
      invalid: {
        line,
        id,
        err: 'wrong number of columns',
        details: [{ field: '(row)', problem: `has ${cells.length} cells, the header has ${columns.length}` }],
      },
    };
  }
  const create: Record<string, unknown> = {};
  const details: FieldProblem[] = [];
  let certificate: DeviceRow['certificate'];
  columns.forEach((column, i) => {
    const cell = cells[i]!;
    switch (column.kind) {
      case 'metadata': {
        const metadata = (create.metadata ??= {}) as Record<string, unknown>;
        if (cell !== '' && !setPath(metadata, column.path, metadataValue(cell)))
          details.push({
            field: `metadata.${column.path.join('.')}`,
            problem: 'conflicts with another metadata column',
          });
        break;
      }
      case 'tags':
        create.tags = cell
          .split(';')
          .map((t) => t.trim())
          .filter((t) => t !== '');
        break;
      case 'certificate':
        if (cell !== '') certificate = cell.startsWith('-----BEGIN') ? { pem: cell } : { file: cell };
        break;
      default:
        if (cell !== '') create[column.kind] = cell;
    }
  });
  if (details.length > 0) return { invalid: { line, id, err: 'invalid row', details } };
  return { row: { line, id, create, certificate } };
}

/**
 * One NDJSON line: a device object as `POST /v2/devices` takes it, or as `export` writes it (its
 * `dms_owner` stands for `dms_id`; server-computed fields are ignored; `certificate` is inline PEM).
 */
export function rowFromJson(text: string, line: number): SourceItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      invalid: {
        line,
        err: 'not JSON',
        details: [{ field: '(line)', problem: `not valid JSON: ${(error as Error).message}` }],
      },
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      invalid: { line, err: 'not a JSON object', details: [{ field: '(line)', problem: 'must be a JSON object' }] },
    };
  }
  const source = value as Record<string, unknown>;
  const id = typeof source.id === 'string' ? source.id : undefined;
  const create: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(source))
    if (!READ_ONLY_FIELDS.includes(key) && key !== 'certificate' && key !== 'revocation_reason') create[key] = field;
  if (create.dms_id === undefined && source.dms_owner !== undefined) create.dms_id = source.dms_owner;
  const row: DeviceRow = { line, id, create };
  if (source.certificate !== undefined) {
    if (typeof source.certificate !== 'string')
      return {
        invalid: { line, id, err: 'invalid row', details: [{ field: 'certificate', problem: 'must be a PEM string' }] },
      };
    row.certificate = { pem: source.certificate };
  }
  if (source.status === 'DECOMMISSIONED') row.decommissioned = true;
  else if (typeof source.revocation_reason === 'string') row.revoked = source.revocation_reason;
  return { row };
}
