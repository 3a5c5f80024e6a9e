// Campaigns are loaded lazily so a process only pulls in (and initialises) what its campaign needs.
import type { Campaign } from '../outcome.js';
import type { RunnableCampaign } from './names.js';

/** The campaign called `name`, freshly constructed. */
export async function loadCampaign(name: string): Promise<Campaign> {
  switch (name as RunnableCampaign) {
    case 'checkpoints':
      return (await import('./checkpoints.js')).checkpointsCampaign();
    case 'datasets':
      return (await import('./datasets.js')).datasetsCampaign();
    case 'rosbridge':
      return (await import('./rosbridge.js')).rosbridgeCampaign();
    case 'selftest':
      return (await import('./selftest.js')).selftestCampaign();
    default:
      throw new Error(`unknown campaign ${JSON.stringify(name)}`);
  }
}
