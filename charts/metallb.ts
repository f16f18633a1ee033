/*
 * MetalLB chart 0.16.1 (https://metallb.github.io/metallb). Values keys verified in
 * charts/metallb/values.yaml at tag metallb-chart-0.16.1:
 *   crds.enabled, frrk8s.enabled, speaker.frr.enabled, controller.resources, speaker.resources,
 *   speaker.tolerateMaster.
 * The chart has no replica, PDB or spreading keys: the controller is one Deployment replica (it only
 * assigns addresses; a restart does not interrupt announced addresses) and the speaker is a DaemonSet.
 * 0.16 turned frr-k8s on by default; it is enabled only for BGP, L2 runs the plain speaker.
 */
import type { Construct } from 'constructs';
import { BgpAdvertisement, BgpPeer, IpAddressPool, L2Advertisement } from '../imports/metallb.io';
import { ComponentChart } from '../constructs/component-chart';
import { HelmReleaseWrapper } from '../constructs/helm-release';
import { NAMESPACES, type Platform } from '../lib/model';
import { charts } from '../lib/versions';

const NAMESPACE = NAMESPACES.metallb.name;
/** The one address pool; LoadBalancer Services (the edge) take their addresses from it. */
export const METALLB_POOL = 'matrix-platform';

/** MetalLB's range syntax has no blanks around the dash. */
export function metallbAddress(range: string): string {
  return range.replace(/\s+/g, '');
}

/** The MetalLB operator and its CRDs (stage 10). */
export class MetallbChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'metallb', { platform, stage: '10-operators', namespace: NAMESPACE });
    const bgp = platform.config.loadBalancer.mode === 'bgp';
    new HelmReleaseWrapper(this, 'release', {
      releaseName: 'metallb',
      namespace: NAMESPACE,
      chart: charts.metallb,
      gitops: platform.config.gitops,
      stage: this.stage,
      values: {
        crds: { enabled: true },
        // BGP through frr-k8s (the 0.16 default backend); L2 needs no routing daemon at all.
        frrk8s: { enabled: bgp },
        controller: {
          resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
        },
        speaker: {
          frr: { enabled: false },
          resources: { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '200m', memory: '256Mi' } },
        },
      },
    });
  }
}

/** Address pool and its announcement: L2Advertisement, or BGPPeers + BGPAdvertisement (stage 20). */
export class MetallbPoolChart extends ComponentChart {
  constructor(scope: Construct, platform: Platform) {
    super(scope, 'metallb-pool', { platform, stage: '20-platform', namespace: NAMESPACE });
    const loadBalancer = platform.config.loadBalancer;
    new IpAddressPool(this, 'pool', {
      metadata: { name: METALLB_POOL, namespace: NAMESPACE },
      spec: { addresses: loadBalancer.addresses.map(metallbAddress), autoAssign: true },
    });
    if (loadBalancer.mode === 'l2') {
      new L2Advertisement(this, 'l2', {
        metadata: { name: METALLB_POOL, namespace: NAMESPACE },
        spec: { ipAddressPools: [METALLB_POOL] },
      });
      return;
    }
    const bgp = loadBalancer.bgp;
    if (!bgp) throw new Error('loadBalancer.bgp is required when loadBalancer.mode is bgp');
    const peerNames = bgp.peers.map((peer) => `peer-${peer.address.replace(/[^0-9a-f]+/gi, '-').toLowerCase()}`);
    bgp.peers.forEach((peer, index) => {
      new BgpPeer(this, peerNames[index], {
        metadata: { name: peerNames[index], namespace: NAMESPACE },
        spec: {
          myAsn: bgp.myAsn,
          peerAsn: peer.asn,
          peerAddress: peer.address,
          ...(peer.port !== undefined ? { peerPort: peer.port } : {}),
        },
      });
    });
    new BgpAdvertisement(this, 'bgp', {
      metadata: { name: METALLB_POOL, namespace: NAMESPACE },
      spec: { ipAddressPools: [METALLB_POOL], peers: peerNames },
    });
  }
}
