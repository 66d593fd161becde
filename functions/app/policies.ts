/** DMS renewal policy use cases. A change re-evaluates the DMS's devices through the sweeper. */
import { ContentionError, PreconditionFailedError, VersionConflictError } from '../domain/errors';
import { assertSettings, defaultPolicy, type DmsPolicy } from '../domain/policy';
import { type DmsIotSettings, dmsIotSettingsOf } from '../domain/dms-iot-settings';
import { DEFAULT_RENEWAL, type RenewalSettings } from '../domain/status';
import type { Clock, IdGenerator, Page, PolicyRepository } from './ports';

export interface PolicyServiceDeps {
  policies: PolicyRepository;
  clock: Clock;
  newId: IdGenerator;
  defaults?: RenewalSettings;
}

export type PolicyService = ReturnType<typeof policyService>;

export function policyService({ policies, clock, newId, defaults = DEFAULT_RENEWAL }: PolicyServiceDeps) {
  return {
    /** The stored policy, or the deployment defaults (version 0) for a DMS without one. */
    async get(dms: string): Promise<DmsPolicy> {
      return (await policies.get(dms)) ?? defaultPolicy(dms, defaults);
    },

    list(pageSize: number, bookmark?: string): Promise<Page<DmsPolicy>> {
      return policies.list(pageSize, bookmark);
    },

    /** `iot` absent keeps the stored AWS IoT settings, null removes them. */
    async put(
      dms: string,
      input: { name?: string; settings: RenewalSettings; iot?: Partial<DmsIotSettings> | null },
      ifMatch?: number,
    ): Promise<DmsPolicy> {
      assertSettings(input.settings);
      for (let attempt = 0; attempt < 5; attempt++) {
        const stored = await policies.get(dms);
        const current = stored ?? defaultPolicy(dms, defaults);
        if (ifMatch !== undefined && ifMatch !== current.version)
          throw new PreconditionFailedError(ifMatch, current.version);
        const iot =
          input.iot === undefined ? current.iot : input.iot === null ? undefined : dmsIotSettingsOf(input.iot);
        const after: DmsPolicy = {
          id: dms,
          name: input.name ?? current.name,
          settings: { ...input.settings },
          ...(iot ? { iot } : {}),
          version: current.version + 1,
        };
        const time = clock.now().toISOString();
        try {
          await policies.save(stored, after, [
            {
              id: newId(),
              type: 'dms.update',
              subject: `dms/${dms}`,
              time,
              data: { previous: current, updated: after },
            },
          ]);
          return after;
        } catch (error) {
          if (!(error instanceof VersionConflictError)) throw error;
          if (ifMatch !== undefined) throw new PreconditionFailedError(ifMatch, current.version + 1);
        }
      }
      throw new ContentionError(`policy of ${dms} is being changed concurrently; try again`);
    },
  };
}
