import { parseConfig } from '../lib/config';
import type { KubeObject } from '../lib/synth';
import { deepMerge, exampleInput, find, findOne, render } from './helpers';

type Any = Record<string, any>;
const spec = (object: KubeObject): Any => (object as Any).spec;

describe('MetalLB', () => {
  test('L2: one pool from the configured ranges and an L2Advertisement, no frr-k8s', () => {
    const objects = render({ loadBalancer: { addresses: ['10.20.0.0/28', '192.168.5.10 - 192.168.5.20'], edgeAddress: '10.20.0.3' } }).objects;
    const pool = findOne(objects, 'IPAddressPool', 'matrix-platform', 'metallb-system');
    expect(spec(pool).addresses).toEqual(['10.20.0.0/28', '192.168.5.10-192.168.5.20']);
    expect(spec(findOne(objects, 'L2Advertisement', 'matrix-platform')).ipAddressPools).toEqual(['matrix-platform']);
    expect(find(objects, 'BGPPeer')).toHaveLength(0);
    expect(find(objects, 'BGPAdvertisement')).toHaveLength(0);
    const values = spec(findOne(objects, 'HelmRelease', 'metallb', 'metallb-system')).values;
    expect(values.frrk8s).toEqual({ enabled: false });
    expect(values.speaker.frr).toEqual({ enabled: false });
    expect(values.crds).toEqual({ enabled: true });
  });

  test('BGP: a BGPPeer per router, a BGPAdvertisement, frr-k8s enabled, no L2Advertisement', () => {
    const objects = render({
      loadBalancer: {
        mode: 'bgp',
        bgp: { myAsn: 64512, peers: [{ address: '192.168.1.1', asn: 64501 }, { address: 'fd00::1', asn: 64502, port: 1179 }] },
      },
    }).objects;
    const peers = find(objects, 'BGPPeer');
    expect(peers.map((peer) => [peer.apiVersion, peer.metadata.name, spec(peer)])).toEqual([
      ['metallb.io/v1beta2', 'peer-192-168-1-1', { myASN: 64512, peerASN: 64501, peerAddress: '192.168.1.1' }],
      ['metallb.io/v1beta2', 'peer-fd00-1', { myASN: 64512, peerASN: 64502, peerAddress: 'fd00::1', peerPort: 1179 }],
    ]);
    expect(spec(findOne(objects, 'BGPAdvertisement', 'matrix-platform'))).toEqual({
      ipAddressPools: ['matrix-platform'],
      peers: ['peer-192-168-1-1', 'peer-fd00-1'],
    });
    expect(find(objects, 'L2Advertisement')).toHaveLength(0);
    expect(spec(findOne(objects, 'HelmRelease', 'metallb')).values.frrk8s).toEqual({ enabled: true });
  });

  const parseWith = (loadBalancer: Record<string, unknown>) => () =>
    parseConfig(deepMerge(exampleInput(), { loadBalancer: { edgeAddress: undefined, ...loadBalancer } }), '(test)');

  test.each([['192.168.1.0/24'], ['192.168.1.240-192.168.1.250'], ['2001:db8:1::/64'], ['2001:db8::10-2001:db8::20']])('accepts the range %s', (range) => {
    expect(parseWith({ addresses: [range] })).not.toThrow();
  });

  test.each([['192.168.1.0/33'], ['192.168.1.250-192.168.1.240'], ['192.168.1.300/24'], ['192.168.1.1-2001:db8::1'], ['pool-a'], ['10.0.0.1']])(
    'rejects the range %s',
    (range) => {
      expect(parseWith({ addresses: [range] })).toThrow(/loadBalancer\.addresses\.0/);
    },
  );

  test('rejects an empty range list, an edge address outside the ranges and BGP without peers', () => {
    expect(parseWith({ addresses: [] })).toThrow(/loadBalancer\.addresses/);
    expect(parseWith({ addresses: ['10.0.0.0/29'], edgeAddress: '10.0.0.8' })).toThrow(/loadBalancer\.edgeAddress/);
    expect(parseWith({ addresses: ['10.0.0.0/29'], edgeAddress: '10.0.0.7' })).not.toThrow();
    expect(parseWith({ mode: 'bgp' })).toThrow(/loadBalancer\.bgp/);
  });

  test('the edge LoadBalancer asks MetalLB for edgeAddress only when it is set', () => {
    const annotated = (overrides: Record<string, unknown>) =>
      spec(findOne(render(overrides).objects, 'EnvoyProxy', 'matrix-edge')).provider.kubernetes.envoyService.annotations;
    expect(annotated({})).toEqual({ 'metallb.io/loadBalancerIPs': '192.168.1.240' });
    expect(annotated({ loadBalancer: { edgeAddress: undefined } })).toBeUndefined();
  });
});
