/** The DMS renewal-policy use cases: process-wide, for the DMS routes. */
import { randomUUID } from 'node:crypto';
import type { PolicyRepository } from '../app/ports';
import { policyService, type PolicyService } from '../app/policies';
import { processWide, type TableContext } from './context';
import { policyRepository } from './repositories';

export function createDms({ config, clock }: TableContext, policies: PolicyRepository): PolicyService {
  return policyService({ policies, clock, newId: randomUUID, defaults: config.renewalDefaults });
}

export const dms = processWide(
  (s) => s.dms,
  (context) => createDms(context, policyRepository()),
);
