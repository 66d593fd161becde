/**
 * Closes the store iterators behind dynalite's streams. dynalite turns `db.keys()` / `db.values()`
 * into a Readable for every Query, Scan and table listing, and its `destroy` calls `iterator.return()`,
 * which abstract-level's iterators do not have: no iterator was ever closed. On a data folder each one
 * kept its LevelDB version alive, so the files compaction had replaced were never deleted (a 100,000-device
 * run left 45 GB of them beside 1.3 GB of data) and native memory grew with every Query; in memory each kept
 * a snapshot of the tree. Giving the iterators `return()` (abstract-level's `close()`) closes each one when
 * its stream ends or is cut short by a Limit.
 */
import type { Store } from './dynalite';

interface ClosableIterator {
  close(): Promise<void>;
  return?: () => Promise<void>;
}

type IteratorFactory = (options?: unknown) => ClosableIterator;

const INSTALLED = Symbol.for('device-manager.local-engine.iterator-close');

/** Iterators the store's streams opened and closed (tests assert none stays open). */
export const storeIteratorCounts = { opened: 0, closed: 0 };

export function installIteratorClose(store: Store): void {
  const main = store.db as unknown as Record<'keys' | 'values', IteratorFactory> & { [INSTALLED]?: true };
  if (main[INSTALLED]) return;
  for (const method of ['keys', 'values'] as const) {
    const open = main[method].bind(main);
    main[method] = (options) => {
      const iterator = open(options);
      storeIteratorCounts.opened++;
      let closed: Promise<void> | undefined;
      iterator.return ??= () => {
        if (!closed) {
          storeIteratorCounts.closed++;
          closed = iterator.close();
        }
        return closed;
      };
      return iterator;
    };
  }
  main[INSTALLED] = true;
}
