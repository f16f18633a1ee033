import { manifestFiles } from '../lib/synth';
import { render } from './helpers';

/**
 * Reviewable snapshots: which objects each config produces, file by file. The full manifests are in
 * dist/ (and reviewed there); these snapshots make object additions, removals and moves obvious in a
 * pull request, for the example config and for the other choices the config offers.
 */
function inventory(overrides: Record<string, unknown>): string[] {
  const { files } = render(overrides);
  const lines: string[] = [];
  for (const [file, content] of manifestFiles(files)) {
    const objects = content
      .split(/^---$/m)
      .map((document) => {
        const kind = /^kind: (.+)$/m.exec(document)?.[1];
        const name = /^ {2}name: (.+)$/m.exec(document)?.[1];
        const namespace = /^ {2}namespace: (.+)$/m.exec(document)?.[1];
        return kind ? `${kind} ${namespace ? `${namespace}/` : ''}${name ?? ''}` : undefined;
      })
      .filter((entry): entry is string => entry !== undefined);
    lines.push(`${file}: ${objects.join(', ')}`);
  }
  return lines;
}

const variants: [string, Record<string, unknown>][] = [
  ['example config', {}],
  ['argocd + ingress-nginx', { gitops: { engine: 'argocd' }, edge: { controller: 'ingress-nginx' } }],
  [
    'helm-controller + external S3 + external-secrets + no calls',
    {
      gitops: { engine: 'helm-controller' },
      objectStorage: { provider: 'external', external: { endpoint: 'https://s3.example.net', region: 'eu-west-1' } },
      secrets: { provider: 'external-secrets', externalSecrets: { storeName: 'vault' } },
      calls: { enabled: false },
    },
  ],
];

test.each(variants)('inventory: %s', (_name, overrides) => {
  expect(inventory(overrides)).toMatchSnapshot();
});
