/**
 * The `shared-certificate` and `shared-key` findings, judged on the table's stream beside the counter
 * applier (docs/data-model.md, Shared fingerprints): no item is shared by the devices holding a
 * fingerprint and a bind's transaction writes nothing for them. For each public key a batch of device
 * changes moved (a slot joining or leaving it), one Query of the holder index names every holder of
 * the key; once it shows each moved device as that device now stands, every holder's findings for the
 * key and the certificates under it are judged, each as a device change with its events. Idempotent:
 * a redelivered batch judges again and finds nothing to change. An index a moment behind (its reads
 * are eventually consistent, or a device changed again between the Query and the read) is read again
 * a few times, briefly, before the batch is failed and delivered again.
 */
import { HolderIndexBehindError } from '../domain/errors';
import { holdersIn, type KeyHolder } from '../domain/shared-holdings';
import type { Device } from '../domain/device';
import type { PostureRepository } from './ports';

/** A device change that moved some of its slots into or out of public keys (SHA-256, hex). */
export interface KeyMove {
  device: string;
  keys: readonly string[];
}

export interface SharedReconcilerDeps {
  index: Pick<PostureRepository, 'keyHolders'>;
  /** The device as stored (read strongly consistent). */
  load(id: string): Promise<Device | undefined>;
  /** Judges one device under one key (device-changes.ts judgeShared). */
  judge(id: string, publicKey: string, holders: readonly KeyHolder[]): Promise<'changed' | 'none'>;
  /** Waits before the index is read again; a timer by default. */
  pause?: (ms: number) => Promise<void>;
}

/** Pauses before each read again of a key whose index is behind: 4 Queries in at most 0.7 s. */
export const INDEX_BEHIND_PAUSES_MS: readonly number[] = [100, 200, 400];

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ReconcileReport {
  keys: number;
  changed: number;
}

const rowText = (h: KeyHolder) => `${h.device}#${h.slot}#${h.certificate}`;

export function sharedReconciler({ index, load, judge, pause = timer }: SharedReconcilerDeps) {
  /** Throws HolderIndexBehindError unless the index shows `id` under `key` as the device stands. */
  async function assertShown(id: string, key: string, holders: readonly KeyHolder[]): Promise<void> {
    const device = await load(id);
    const expected = (device ? holdersIn(device, key) : []).map(rowText).sort();
    const shown = holders
      .filter((h) => h.device === id)
      .map(rowText)
      .sort();
    if (expected.join('\n') !== shown.join('\n')) throw new HolderIndexBehindError(id, key);
  }

  /** The key's holders once the index shows every moved device as it stands; else HolderIndexBehindError. */
  async function shownHolders(key: string, moved: ReadonlySet<string>): Promise<readonly KeyHolder[]> {
    for (let attempt = 0; ; attempt++) {
      const holders = await index.keyHolders(key);
      try {
        for (const id of moved) await assertShown(id, key, holders);
        return holders;
      } catch (error) {
        const wait = INDEX_BEHIND_PAUSES_MS[attempt];
        if (!(error instanceof HolderIndexBehindError) || wait === undefined) throw error;
        await pause(wait);
      }
    }
  }

  return {
    async reconcile(moves: readonly KeyMove[]): Promise<ReconcileReport> {
      const byKey = new Map<string, Set<string>>();
      for (const { device, keys } of moves)
        for (const key of keys) byKey.set(key, (byKey.get(key) ?? new Set()).add(device));
      const report: ReconcileReport = { keys: byKey.size, changed: 0 };
      for (const [key, moved] of byKey) {
        const holders = await shownHolders(key, moved);
        // A device that left the key dropped its findings for it in its own change (device-changes.ts).
        for (const id of new Set(holders.map((h) => h.device)))
          if ((await judge(id, key, holders)) === 'changed') report.changed++;
      }
      return report;
    },
  };
}

export type SharedReconciler = ReturnType<typeof sharedReconciler>;
