import type { PlatformConfig } from './config';
import { type Placeholder, placeholdersIn } from './config/guards';
import { imageRef, SYNAPSE_IMAGE_PLACEHOLDER } from './versions';
import { buildPlatform } from './model';
import { callNotices } from './model/calls';

/**
 * What `npm run synth` says besides writing dist/: values still at an example or documentation
 * value (warnings; errors with --strict), and upstream facts the operator should know about.
 */

export function configPlaceholders(config: PlatformConfig): Placeholder[] {
  const image = buildPlatform(config).synapseImage;
  const extra: Placeholder[] =
    image.repository === SYNAPSE_IMAGE_PLACEHOLDER
      ? [
          {
            path: 'synapse.image',
            value: imageRef(image),
            why: 'the project image exists in no registry until you build it: bash scripts/build-synapse-image.sh --push REPOSITORY',
          },
        ]
      : [];
  return placeholdersIn(config, extra);
}

export function formatPlaceholder(placeholder: Placeholder): string {
  return `${placeholder.path}: ${JSON.stringify(placeholder.value)} (${placeholder.why})`;
}

export function upstreamNotices(config: PlatformConfig): string[] {
  const notices: string[] = [];
  if (config.objectStorage.provider === 'minio') {
    notices.push(
      'notice: objectStorage.provider is minio. The MinIO community server is source-only since October 2025 and its repository was archived in early 2026; plan a move to objectStorage.provider: external.',
    );
  }
  if (config.edge.controller === 'ingress-nginx') {
    notices.push('notice: edge.controller is ingress-nginx, which was retired upstream in March 2026 (no releases or CVE fixes). Prefer envoy-gateway.');
  }
  notices.push(...callNotices(config));
  return notices;
}
