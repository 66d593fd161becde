/**
 * A file cut into pieces reads as the whole file does: the rows, their line numbers and the invalid
 * lines of every piece together are what the command line's reader yields for the whole file.
 */
import { Readable } from 'node:stream';
import { openSource } from '../../../cli/sources';
import { planFile, rowsOfPiece } from '../../../functions/domain/import-file';
import { ImportFileError, type SourceItem } from '../../../functions/domain/import-rows';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bytesOf = (text: string, size = 7) =>
  Readable.from(
    (
      Buffer.from(text)
        .toString('binary')
        .match(new RegExp(`[\\s\\S]{1,${size}}`, 'g')) ?? []
    ).map((s) => Buffer.from(s, 'binary')),
  );

async function whole(text: string, format: 'csv' | 'ndjson'): Promise<SourceItem[]> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pieces-')), `f.${format}`);
  writeFileSync(file, text);
  const items: SourceItem[] = [];
  for await (const item of openSource(file, format).items) items.push(item);
  return items;
}

async function pieced(text: string, format: 'csv' | 'ndjson', rows: number): Promise<SourceItem[]> {
  const plan = await planFile(format, bytesOf(text), rows);
  const bytes = Buffer.from(text);
  return plan.pieces.flatMap((piece) =>
    rowsOfPiece(format, bytes.subarray(piece.start, piece.end).toString('utf8'), piece, plan.header),
  );
}

const CSV = [
  'id,dms_id,tags,metadata.note',
  'a-1,dms,x;y,plain',
  '',
  'a-2,dms,,"two',
  'lines"',
  'a-3,dms',
  'a-4,dms,z,"{""k"":1}"',
  'a-5,dms,z,"unclosed',
  'a-6,dms,,é',
].join('\n');

const NDJSON = [
  '{"id":"n-1","dms_id":"d"}',
  '',
  'not json',
  '  ',
  '{"id":"n-2","dms_owner":"d","tags":["t"]}',
  '[1]',
].join('\n');

describe('an import file in pieces', () => {
  it.each([1, 2, 3, 100])('CSV in pieces of %i rows reads as the whole file does', async (rows) => {
    expect(await pieced(CSV, 'csv', rows)).toEqual(await whole(CSV, 'csv'));
  });

  it.each([1, 2, 100])('NDJSON in pieces of %i rows reads as the whole file does', async (rows) => {
    expect(await pieced(NDJSON, 'ndjson', rows)).toEqual(await whole(NDJSON, 'ndjson'));
  });

  it('counts the records and cuts every N of them', async () => {
    const plan = await planFile('ndjson', bytesOf(NDJSON), 2);
    expect(plan.records).toBe(4);
    expect(plan.pieces.map((p) => p.linesBefore)).toEqual([0, 3]);
  });

  it('refuses a CSV header with an unknown column, and a CSV without a header', async () => {
    await expect(planFile('csv', bytesOf('id,colour\na,b\n'), 10)).rejects.toBeInstanceOf(ImportFileError);
    await expect(planFile('csv', bytesOf(''), 10)).rejects.toBeInstanceOf(ImportFileError);
  });
});
