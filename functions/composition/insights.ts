/** The statistics use cases (metadata distributions, expirations): process-wide, for the statistics routes. */
import { insightsService, type InsightsService } from '../app/insights';
import type { DeviceRepository } from '../app/ports';
import { processWide, type TableContext } from './context';
import { deviceRepository } from './repositories';

export function createInsights({ clock }: TableContext, repository: DeviceRepository): InsightsService {
  return insightsService({ devices: repository, clock });
}

export const insights = processWide(
  (s) => s.insights,
  (context) => createInsights(context, deviceRepository()),
);
