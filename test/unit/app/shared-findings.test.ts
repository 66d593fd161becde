/** The shared-findings reconciler (app/shared-findings.ts) over fakes of its index, reads and judgement. */
import type { Device, Slot } from '../../../functions/domain/device';
import { HolderIndexBehindError } from '../../../functions/domain/errors';
import type { KeyHolder } from '../../../functions/domain/shared-holdings';
import { INDEX_BEHIND_PAUSES_MS, sharedReconciler } from '../../../functions/app/shared-findings';

const slot = (cert: string, key: string): Slot =>
  ({
    type: 'x509',
    status: 'ACTIVE',
    active_version: 1,
    crypto: { sha256_fingerprint: cert, public_key_sha256: key },
  }) as unknown as Slot;
const device = (id: string, identity: Slot): Device =>
  ({ id, status: 'ACTIVE', identity, slots: {} }) as unknown as Device;

/** `rows` is what the index shows; a list of them is what each Query in turn shows (the last one stays). */
function setup(devices: Device[], rows: KeyHolder[] | KeyHolder[][]) {
  const stored = new Map(devices.map((d) => [d.id, d]));
  const queried: string[] = [];
  const judged: string[] = [];
  const paused: number[] = [];
  const answers = Array.isArray(rows[0]) ? (rows as KeyHolder[][]) : [rows as KeyHolder[]];
  const reconciler = sharedReconciler({
    index: {
      keyHolders: async (key) => {
        queried.push(key);
        return answers[Math.min(queried.length, answers.length) - 1]!;
      },
    },
    pause: async (ms) => {
      paused.push(ms);
    },
    load: async (id) => stored.get(id),
    judge: async (id, key, holders) => {
      judged.push(`${id} ${key} ${holders.length}`);
      return 'changed';
    },
  });
  return { reconciler, queried, judged, paused };
}

it('queries each moved key once and judges every holder it shows', async () => {
  const a = device('a', slot('c1', 'k1'));
  const b = device('b', slot('c1', 'k1'));
  const rows = [
    { device: 'a', slot: 'identity', certificate: 'c1' },
    { device: 'b', slot: 'identity', certificate: 'c1' },
  ];
  const { reconciler, queried, judged } = setup([a, b], rows);
  const report = await reconciler.reconcile([
    { device: 'a', keys: ['k1'] },
    { device: 'b', keys: ['k1'] },
  ]);
  expect(queried).toEqual(['k1']);
  expect(judged).toEqual(['a k1 2', 'b k1 2']);
  expect(report).toEqual({ keys: 1, changed: 2 });
});

it('judges nothing while the index does not show a moved device as it stands (delivered again)', async () => {
  const a = device('a', slot('c2', 'k1')); // a re-bound: the index still shows its former certificate
  const { reconciler, judged, queried, paused } = setup([a], [{ device: 'a', slot: 'identity', certificate: 'c1' }]);
  await expect(reconciler.reconcile([{ device: 'a', keys: ['k1'] }])).rejects.toBeInstanceOf(HolderIndexBehindError);
  expect(judged).toEqual([]);
  // Read again after each pause before giving the batch back.
  expect(paused).toEqual(INDEX_BEHIND_PAUSES_MS);
  expect(queried).toHaveLength(INDEX_BEHIND_PAUSES_MS.length + 1);
  // A device that left the key: the index must no longer show it.
  const left = setup([device('b', slot('c3', 'k3'))], [{ device: 'b', slot: 'identity', certificate: 'c1' }]);
  await expect(left.reconciler.reconcile([{ device: 'b', keys: ['k1'] }])).rejects.toBeInstanceOf(
    HolderIndexBehindError,
  );
});

it('reads the index again after a pause when it is a moment behind, and judges what it then shows', async () => {
  const a = device('a', slot('c1', 'k1'));
  const b = device('b', slot('c1', 'k1'));
  const before = [{ device: 'a', slot: 'identity', certificate: 'c1' }]; // b's bind not shown yet
  const after = [...before, { device: 'b', slot: 'identity', certificate: 'c1' }];
  const { reconciler, queried, judged, paused } = setup([a, b], [before, after]);
  const report = await reconciler.reconcile([{ device: 'b', keys: ['k1'] }]);
  expect(queried).toEqual(['k1', 'k1']);
  expect(paused).toEqual([INDEX_BEHIND_PAUSES_MS[0]]);
  expect(judged).toEqual(['a k1 2', 'b k1 2']);
  expect(report).toEqual({ keys: 1, changed: 2 });
});
