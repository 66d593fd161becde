/**
 * The ports in memory (docs/architecture.md, Testing the use cases): fast unit tests of the use
 * cases run on these; the contract suite holds them to the DynamoDB adapters' behaviour.
 */
import { bookmarkCodec } from '../../../functions/adapters/dynamodb/bookmark';
import { memoryConnectivityStore } from './connectivity';
import { memoryDevicePurge, memoryDeviceRepository } from './devices';
import { memoryGroupRepository, memoryPolicyRepository } from './groups';
import { memoryState } from './state';

export interface MemoryPortsOptions {
  indexedMetadataKeys?: readonly string[];
  listByteBudget?: number;
}

export function memoryPorts(options: MemoryPortsOptions = {}) {
  const state = memoryState();
  const bookmarks = bookmarkCodec('memory');
  return {
    state,
    bookmarks,
    devices: memoryDeviceRepository(state, { bookmarks, ...options }),
    purge: memoryDevicePurge(state),
    policies: memoryPolicyRepository(state, bookmarks),
    groups: memoryGroupRepository(state, bookmarks),
    connectivity: memoryConnectivityStore(state),
  };
}

export type MemoryPorts = ReturnType<typeof memoryPorts>;
