import type { Action } from './scenario.js';

const NS = ['-n', 'istioinaction'];

/** The state 5.2 ends in: catalog v1+v2, webapp behind coolstore-gateway, the DestinationRule. */
export function callGraphSetup(catalogFiles = ['services/catalog/kubernetes/catalog.yaml', 'services/catalog/kubernetes/catalog-deployment-v2.yaml']): Action[] {
  return [
    ...catalogFiles.map((f) => ({ lab: ['apply', '-f', f, ...NS] })),
    { lab: ['apply', '-f', 'services/webapp/kubernetes/webapp.yaml', ...NS] },
    { lab: ['apply', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml', ...NS] },
    { lab: ['apply', '-f', 'ch5/catalog-dest-rule.yaml', ...NS] },
  ];
}
