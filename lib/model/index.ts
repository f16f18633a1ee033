import type { PlatformConfig } from '../config';
import { type ImagePin, images } from '../versions';
import { deriveHosts, type Hosts } from './platform';

export * from './platform';
export * from './stages';
export * from './endpoints';
export * from './secrets';
export * from './internal-ca';

/** Everything a chart needs: the validated config and the values derived from it. */
export interface Platform {
  readonly config: PlatformConfig;
  readonly hosts: Hosts;
  /** The Synapse image every Synapse process and job runs: config synapse.image, else the project pin. */
  readonly synapseImage: ImagePin;
}

export function buildPlatform(config: PlatformConfig): Platform {
  return { config, hosts: deriveHosts(config), synapseImage: config.synapse.image ?? images.synapse };
}
