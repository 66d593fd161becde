/** Reading certificates: one pass over the body whatever its armor, and 400s for what node:crypto cannot read. */
import { certificateTime, firstPemBlock, parseCertificate } from '../../../functions/domain/certificate';
import { ValidationError } from '../../../functions/domain/errors';
import { certificate } from '../../support/certificates';
import { brokenCertificates, pemArmor } from '../../support/hostile';

/** Characters searched by firstPemBlock, with how many times each was searched at most. */
function work(text: string): { searched: number; maxPerChar: number } {
  const hits = new Uint8Array(text.length + 1);
  let searched = 0;
  firstPemBlock(text, (from, to) => {
    searched += to - from;
    for (let i = from; i < to; i++) hits[i]!++;
  });
  return { searched, maxPerChar: hits.reduce((a, b) => Math.max(a, b), 0) };
}

describe('firstPemBlock', () => {
  it.each([
    ['repeated BEGIN lines', pemArmor(256 * 1024)],
    ['repeated BEGIN markers without newlines', pemArmor(256 * 1024, '-----BEGIN CERTIFICATE-----')],
    ['near-miss markers', pemArmor(256 * 1024, '-----BEGIN CERTIFICATE----\n-----END CERTIFICAT')],
    ['junk', 'x'.repeat(256 * 1024)],
  ])('searches each character of %s at most once', (_, body) => {
    const { searched, maxPerChar } = work(body);
    expect(searched).toBeLessThanOrEqual(body.length);
    expect(maxPerChar).toBeLessThanOrEqual(1);
    expect(firstPemBlock(body)).toBeUndefined();
  });

  it('finds the first block, like the lazy regex did', async () => {
    const { pem } = await certificate({ notAfter: '2030-01-01T00:00:00Z' });
    const body = `junk\n${pemArmor(100)}${pem}${pem}`;
    const block = firstPemBlock(body)!;
    expect(block).toBe(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(body)![0]);
    expect(work(body).maxPerChar).toBe(1);
  });
});

describe('certificateTime', () => {
  it.each([
    ['Jan  5 00:00:00 2026 GMT', '2026-01-05T00:00:00.000Z'],
    ['Dec 31 23:59:59 2049 GMT', '2049-12-31T23:59:59.000Z'],
    ['Feb 29 12:00:00 2028 GMT', '2028-02-29T12:00:00.000Z'],
  ])('%s is %s', (text, iso) => expect(certificateTime(text)).toBe(iso));

  it.each([
    'Bad time value',
    'Feb 31 00:00:00 2026 GMT',
    'Feb 29 00:00:00 2026 GMT',
    'Foo  1 00:00:00 2026 GMT',
    'Jan  1 24:00:00 2026 GMT',
    'Jan  1 00:60:00 2026 GMT',
    '',
  ])('%s is not a time', (text) => {
    expect(certificateTime(text)).toBeUndefined();
  });
});

describe('parseCertificate', () => {
  it('answers a ValidationError naming the field for each broken certificate', async () => {
    const { pem } = await certificate({ notBefore: '2026-01-15T00:00:00Z', notAfter: '2030-01-01T00:00:00Z' });
    expect(parseCertificate(pem).not_before).toBe('2026-01-15T00:00:00.000Z');
    for (const broken of brokenCertificates(pem)) {
      let error: unknown;
      try {
        parseCertificate(broken.pem, 'identity');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).details).toEqual([
        { field: 'identity', problem: expect.stringMatching(broken.problem) },
      ]);
    }
  });
});
