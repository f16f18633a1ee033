#!/usr/bin/env bash
# Regenerates imports/ (typed constructs) from the vendored upstream CRD schemas in schemas/crds
# (schemas/PROVENANCE.md). Generated code is committed and never edited by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  -h|--help) echo "usage: npm run import"; echo "Regenerates imports/ from schemas/crds (the vendored CRD schemas)."; exit 0 ;;
  "") ;;
  *) echo "error: unknown argument \"$1\" (npm run import -- --help)" >&2; exit 2 ;;
esac
crds=schemas/crds
[ -d "$crds" ] || { echo "error: $crds not found; the vendored CRD schemas are needed to generate imports/" >&2; exit 1; }
rm -rf imports
mkdir -p imports
# group:file pairs; the import prefix becomes the module name under imports/.
sources=(
  "flux-helm-controller/helm.toolkit.fluxcd.io_helmreleases.yaml"
  "flux-source-controller/source.toolkit.fluxcd.io_helmrepositories.yaml"
  "flux-source-controller/source.toolkit.fluxcd.io_gitrepositories.yaml"
  "flux-kustomize-controller/kustomize.toolkit.fluxcd.io_kustomizations.yaml"
  "argo-cd/application-crd.yaml"
  "k3s-helm-controller/helm.cattle.io_helmcharts.yaml"
  "metallb/metallb.io_ipaddresspools.yaml"
  "metallb/metallb.io_l2advertisements.yaml"
  "metallb/metallb.io_bgppeers.yaml"
  "metallb/metallb.io_bgpadvertisements.yaml"
  "gateway-api/gateway.networking.k8s.io_gatewayclasses.yaml"
  "gateway-api/gateway.networking.k8s.io_gateways.yaml"
  "gateway-api/gateway.networking.k8s.io_httproutes.yaml"
  "envoy-gateway/gateway.envoyproxy.io_envoyproxies.yaml"
  "envoy-gateway/gateway.envoyproxy.io_securitypolicies.yaml"
  "envoy-gateway/gateway.envoyproxy.io_clienttrafficpolicies.yaml"
  "cloudnative-pg/postgresql.cnpg.io_clusters.yaml"
  "cloudnative-pg/postgresql.cnpg.io_scheduledbackups.yaml"
  "plugin-barman-cloud/barmancloud.cnpg.io_objectstores.yaml"
  "minio-operator/minio.min.io_tenants.yaml"
  "prometheus-operator/crd-servicemonitors.yaml"
  "prometheus-operator/crd-podmonitors.yaml"
  "prometheus-operator/crd-prometheusrules.yaml"
  "external-secrets/external-secrets.io_externalsecrets.yaml"
)
# cdk8s writes one module per API group and overwrites it on each call, so the CRDs of one group
# are concatenated into a single multi-document file first.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for source in "${sources[@]}"; do
  group=$(basename "$source" | sed -E 's/_.*//; s/-crd\.yaml$/.argoproj.io/; s/^crd-.*/monitoring.coreos.com/')
  { cat "$crds/$source"; printf '\n---\n'; } >> "$work/$group.yaml"
done
for bundle in "$work"/*.yaml; do
  CDK8S_CHECK_UPGRADE=false npx cdk8s import --no-save --no-class-prefix --language typescript --output imports "$bundle" >/dev/null 2>&1
done
ls imports
