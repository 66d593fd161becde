/** Import rows: CSV records and NDJSON lines into create bodies (no network). */
import { UsageError } from '../../../cli/errors';
import { csvColumns, metadataValue, rowFromCsv, rowFromJson } from '../../../cli/rows';

describe('CSV rows', () => {
  const columns = csvColumns([
    'id',
    'dms_id',
    'tags',
    'icon',
    'icon_color',
    'certificate',
    'metadata.firmware',
    'metadata.location.floor',
  ]);

  it('maps cells to the create body: tags split on ;, nested metadata read as JSON when it parses', () => {
    expect(
      rowFromCsv(columns, ['dev-1', 'dms-1', 'a; b;;c', 'chip', '#112233', 'certs/dev-1.pem', '1.4.2', '3'], 7),
    ).toEqual({
      row: {
        line: 7,
        id: 'dev-1',
        create: {
          id: 'dev-1',
          dms_id: 'dms-1',
          tags: ['a', 'b', 'c'],
          icon: 'chip',
          icon_color: '#112233',
          metadata: { firmware: '1.4.2', location: { floor: 3 } },
        },
        certificate: { file: 'certs/dev-1.pem' },
      },
    });
  });

  it('leaves empty cells out but keeps a tags or metadata column as "none"', () => {
    expect(rowFromCsv(columns, ['dev-2', '', '', '', '', '', '', ''], 3)).toEqual({
      row: { line: 3, id: 'dev-2', create: { id: 'dev-2', tags: [], metadata: {} } },
    });
  });

  it('reports a ragged record and clashing metadata paths as invalid lines, with the line number', () => {
    expect(rowFromCsv(columns, ['dev-3', 'dms-1'], 9)).toEqual({
      invalid: {
        line: 9,
        id: 'dev-3',
        err: 'wrong number of columns',
        details: [{ field: '(row)', problem: 'has 2 cells, the header has 8' }],
      },
    });
    const clash = csvColumns(['id', 'metadata.a', 'metadata.a.b']);
    expect(rowFromCsv(clash, ['dev-4', '1', '2'], 2)).toEqual({
      invalid: {
        line: 2,
        id: 'dev-4',
        err: 'invalid row',
        details: [{ field: 'metadata.a.b', problem: 'conflicts with another metadata column' }],
      },
    });
  });

  it('refuses a header with an unknown, repeated or missing column before any request', () => {
    expect(() => csvColumns(['id', 'colour'])).toThrow(
      new UsageError(
        "CSV header: unknown column 'colour' (expected id, dms_id, " +
          'tags, icon, icon_color, certificate, metadata.<path>)',
      ),
    );
    expect(() => csvColumns(['id', 'tags', 'tags'])).toThrow("column 'tags' appears twice");
    expect(() => csvColumns(['dms_id'])).toThrow("no 'id' column");
    expect(() => csvColumns(['id', 'metadata.'])).toThrow(UsageError);
  });

  it('reads metadata cells as JSON when they parse, else as text', () => {
    expect([
      metadataValue('3'),
      metadataValue('true'),
      metadataValue('"3"'),
      metadataValue('{"a":[1]}'),
      metadataValue('1.4.2'),
      metadataValue('null'),
    ]).toEqual([3, true, '3', { a: [1] }, '1.4.2', null]);
  });
});

describe('NDJSON rows', () => {
  it('takes a create body as is, with an inline certificate', () => {
    expect(rowFromJson('{"id":"d1","dms_id":"m","tags":["x"],"certificate":"-----BEGIN CERTIFICATE-----"}', 4)).toEqual(
      {
        row: {
          line: 4,
          id: 'd1',
          create: { id: 'd1', dms_id: 'm', tags: ['x'] },
          certificate: { pem: '-----BEGIN CERTIFICATE-----' },
        },
      },
    );
  });

  it('reads an exported device: dms_owner for dms_id, computed fields dropped, lifecycle kept', () => {
    const exported = {
      id: 'd2',
      dms_owner: 'm',
      status: 'DECOMMISSIONED',
      version: 4,
      events: {},
      slots: {},
      identity: { status: 'REVOKED' },
      creation_timestamp: '2026-01-01T00:00:00Z',
      tags: [],
      metadata: { a: 1 },
      icon: 'i',
      icon_color: '#fff',
    };
    expect(rowFromJson(JSON.stringify(exported), 1)).toEqual({
      row: {
        line: 1,
        id: 'd2',
        create: { id: 'd2', dms_id: 'm', tags: [], metadata: { a: 1 }, icon: 'i', icon_color: '#fff' },
        decommissioned: true,
      },
    });
    expect(
      rowFromJson(
        JSON.stringify({
          id: 'd3',
          dms_owner: 'm',
          status: 'REVOKED',
          revocation_reason: 'KeyCompromise',
          certificate: 'PEM',
        }),
        2,
      ),
    ).toEqual({
      row: {
        line: 2,
        id: 'd3',
        create: { id: 'd3', dms_id: 'm' },
        certificate: { pem: 'PEM' },
        revoked: 'KeyCompromise',
      },
    });
  });

  it('passes unknown fields to the API (which names them) and reports lines that are not JSON objects', () => {
    expect(rowFromJson('{"id":"d4","dms_id":"m","colour":"red"}', 5)).toEqual({
      row: { line: 5, id: 'd4', create: { id: 'd4', dms_id: 'm', colour: 'red' } },
    });
    expect(rowFromJson('{"id":', 6)).toMatchObject({
      invalid: { line: 6, err: 'not JSON', details: [{ field: '(line)' }] },
    });
    expect(rowFromJson('[1]', 7)).toEqual({
      invalid: { line: 7, err: 'not a JSON object', details: [{ field: '(line)', problem: 'must be a JSON object' }] },
    });
    expect(rowFromJson('{"id":"d5","certificate":7}', 8)).toEqual({
      invalid: {
        line: 8,
        id: 'd5',
        err: 'invalid row',
        details: [{ field: 'certificate', problem: 'must be a PEM string' }],
      },
    });
  });
});
