import { imageRef, images } from '../lib/versions';
import { findOne, render } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('imageRef renders repository:tag, plus @digest when the pin has one, and refuses a malformed digest', () => {
  expect(imageRef({ repository: 'docker.io/library/haproxy', tag: '3.4.3-alpine' })).toBe('docker.io/library/haproxy:3.4.3-alpine');
  expect(imageRef({ repository: 'docker.io/library/haproxy', tag: '3.4.3-alpine', digest: DIGEST })).toBe(`docker.io/library/haproxy:3.4.3-alpine@${DIGEST}`);
  expect(() => imageRef({ repository: 'r', tag: 't', digest: 'sha256:abc' })).toThrow(/not sha256/);
});

test('config images.digests pins the matching images, and the digest exception leaves the workloads whose images all have one', () => {
  const haproxy = imageRef(images.haproxy);
  const { objects } = render({ images: { digests: { [haproxy]: DIGEST, 'docker.io/library/haproxy:0.0.0': DIGEST } } });
  const router = findOne(objects, 'Deployment', 'synapse-router', 'matrix') as Any;
  expect(router.spec.template.spec.containers[0].image).toBe(`${haproxy}@${DIGEST}`);
  expect(Object.values(router.metadata.annotations ?? {}).join('\n')).not.toMatch(/CKV_K8S_43|CKV_K8S_15/);
  // Other images stay by tag and keep their exception.
  const web = findOne(objects, 'Deployment', 'element-web', 'matrix') as Any;
  expect(web.spec.template.spec.containers[0].image).toBe(imageRef(images.elementWeb));
  expect(Object.values(web.metadata.annotations).join('\n')).toMatch(/CKV_K8S_43=image pinned by tag/);
  // Without the config entry the router is by tag and excepted.
  const plain = findOne(render().objects, 'Deployment', 'synapse-router', 'matrix') as Any;
  expect(Object.values(plain.metadata.annotations).join('\n')).toMatch(/CKV_K8S_43=/);
});
