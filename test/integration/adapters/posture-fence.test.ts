/**
 * Posture findings on the real adapter and the embedded engine (docs/data-model.md, Posture
 * findings): the posture fence makes a change judged with an older posture policy lose against the
 * re-evaluation walk that passed the device with the newer one, and be judged again; the walk stamps
 * the devices it leaves unchanged without a version bump, and skips them on its next pass.
 */
import type { PostureRepository } from '../../../functions/app/ports';
import { parseCertificate } from '../../../functions/domain/certificate';
import { findingsOf, storedFindingsOf } from '../../../functions/domain/findings';
import { DEFAULT_POSTURE_POLICY } from '../../../functions/domain/posture';
import type { Engine } from '@device-manager/local-engine';
import { certificate } from '../../support/certificates';
import { startTestEngine } from '../../support/dynamo';
import { postureStack } from '../../support/posture';

let engine: Engine;
beforeAll(async () => {
  engine = await startTestEngine();
});
afterAll(async () => {
  await engine.stop();
});

async function setup() {
  const stack = await postureStack(engine);
  const bindLong = async (svc: typeof stack.service, id: string) => {
    // Valid for about 3 years: a finding under max_validity_days 30, none under the defaults.
    const cert = await certificate({ notBefore: '2026-01-01T00:00:00Z', notAfter: '2029-01-01T00:00:00Z' });
    return svc.bind(id, 'identity', { type: 'x509', certificate: parseCertificate(cert.pem) });
  };
  return { ...stack, bindLong };
}

describe('the posture fence', () => {
  it('a bind judged with the old policy after the walk passed the device is judged again', async () => {
    const { repository, posture, service, serviceWith, walk, bindLong, policy } = await setup();
    await service.register({ id: 'd1', dms_id: 'dms' });
    await bindLong(service, 'd1');
    await walk(); // the first assessment: ready, version 0
    expect(findingsOf((await repository.get('d1'))!)).toEqual([]);

    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, max_validity_days: 30 }, 0);
    await walk();
    const walked = (await repository.get('d1'))!;
    expect(findingsOf(walked).map((f) => f.check)).toEqual(['validity-too-long']);

    // A bind that read the policy before the change (version 0), committing after the walk (version 1).
    let reads = 0;
    const stale: PostureRepository = {
      ...posture,
      get: async () => (reads++ === 0 ? undefined : posture.get()),
    };
    await bindLong(serviceWith(stale), 'd1');
    expect(reads).toBe(2); // the fence refused the first computation; the second read the new policy
    const after = (await repository.get('d1'))!;
    expect(after.version).toBe(walked.version + 1);
    expect(findingsOf(after).map((f) => f.check)).toEqual(['validity-too-long']);
  });

  it('stamps the devices whose findings do not change, without a version bump, and the job ends', async () => {
    const { repository, posture, service, walk, bindLong, policy } = await setup();
    for (const id of ['a', 'b', 'c']) await service.register({ id, dms_id: 'dms' });
    await bindLong(service, 'a');
    await walk();
    const before = await Promise.all(['a', 'b', 'c'].map(async (id) => (await repository.get(id))!.version));
    // A policy that changes nothing for these devices: every one is stamped, none bumped.
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, min_rsa_bits: 3072 }, 0);
    await walk();
    const devices = await Promise.all(['a', 'b', 'c'].map(async (id) => (await repository.get(id))!));
    expect(devices.map((d) => d.version)).toEqual(before);
    expect(devices.map((d) => storedFindingsOf(d)?.policy_version)).toEqual([1, 1, 1]);
    // The job is done: the next run sends no posture task and judges nothing.
    expect(await posture.job()).toBeUndefined();
    expect(await posture.ready()).toBe(true);
  });
});

describe('what the findings read', () => {
  it('the open counts read the counter items; a page of a check reads its entries and its devices', async () => {
    const { posture, postureTable, service, walk, bindLong, policy } = await setup();
    await walk();
    await policy.putPolicy({ ...DEFAULT_POSTURE_POLICY, max_validity_days: 30 }, 0);
    for (let i = 0; i < 8; i++) {
      await service.register({ id: `d${String(i).padStart(2, '0')}`, dms_id: 'dms' });
      if (i % 2 === 0) await bindLong(service, `d${String(i).padStart(2, '0')}`);
    }
    await walk();
    let before = postureTable.itemsRead;
    const first = await posture.findings('validity-too-long', 3);
    expect(first.list.map((r) => r.device_id)).toEqual(['d00', 'd02', 'd04']);
    // 3 devices, and at most a chunk of entries per shard (2 shards): never the 4 devices without the finding.
    expect(postureTable.itemsRead - before).toBeLessThanOrEqual(3 + 2 * 4);
    const rest = await posture.findings('validity-too-long', 3, first.next);
    expect(rest.list.map((r) => r.device_id)).toEqual(['d06']);
    expect(rest.next).toBe('');
    before = postureTable.itemsRead;
    await posture.openCounts();
    // The counters: at most one item per stats shard (2) and the applier state.
    expect(postureTable.itemsRead - before).toBeLessThanOrEqual(3);
  });
});
