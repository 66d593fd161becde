/**
 * The whole composition at once, for the local service, tests and benches: every capability of
 * compose/*, built over one table context. Handlers import only their capability's module
 * (compose/devices.ts, groups.ts, ...), so a function bundles and loads only what its route uses.
 * The event functions' adapters (EventBridge, SQS, IoT) are composed in their own roots.
 */
import type { Clock } from '../app/ports';
import type { ServiceConfig } from '../runtime/config';
import {
  createTableContext,
  installedServices,
  type Services,
  systemClock,
  type TableContext,
  tableContext,
} from './context';
import { createDeletion, deletion } from './deletion';
import { createDevices, devices } from './devices';
import { createGroups, groups } from './groups';
import { createInsights, insights } from './insights';
import { createJobs, jobs } from './jobs';
import { createIotStates, iotStates } from './iot-states';
import { connectivityReads, createConnectivityReads } from './presence';
import { createDms, dms } from './policies';
import { createPosture, posture } from './posture';
import {
  createDeviceRepository,
  createPolicyRepository,
  createPostureRepository,
  deviceRepository,
  policyRepository,
  postureRepository,
} from './repositories';
import { createSweepIndex, sweepIndex } from './sweep';

export { metricsTelemetry, type Services, setServices, systemClock } from './context';

export function createServices(config: ServiceConfig, clock: Clock = systemClock): Services {
  return servicesOver(createTableContext(config, clock));
}

function servicesOver(context: TableContext): Services {
  const repository = createDeviceRepository(context);
  const policies = createPolicyRepository(context);
  const postureRepository = createPostureRepository(context);
  const devices = createDevices(context, repository, policies, postureRepository);
  return {
    config: context.config,
    repository,
    policies,
    devices,
    dms: createDms(context, policies),
    groups: createGroups(context, devices),
    insights: createInsights(context, repository),
    deletion: createDeletion(context, repository),
    bookmarks: context.bookmarks,
    iotStates: createIotStates(context),
    connectivity: createConnectivityReads(context),
    sweepIndex: createSweepIndex(context, repository),
    postureRepository,
    posture: createPosture(postureRepository),
    jobs: createJobs(context, repository, policies, postureRepository),
  };
}

/** Every capability: the installed services, or the process-wide ones built from the environment. */
export function services(): Services {
  const installed = installedServices();
  if (installed) return installed;
  const { config, bookmarks } = tableContext();
  return {
    config,
    bookmarks,
    repository: deviceRepository(),
    policies: policyRepository(),
    devices: devices(),
    dms: dms(),
    groups: groups(),
    insights: insights(),
    deletion: deletion(),
    iotStates: iotStates(),
    connectivity: connectivityReads(),
    sweepIndex: sweepIndex(),
    postureRepository: postureRepository(),
    posture: posture(),
    jobs: jobs(),
  };
}
