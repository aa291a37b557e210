/**
 * The objects Flagger generates for an Istio canary (pkg/router/istio.go, kubernetes_default.go,
 * canary/deployment_controller.go): the primary Deployment, the apex/-primary/-canary Services, the
 * -primary/-canary DestinationRules and the apex VirtualService. Pure: Canary + target -> objects.
 */
import type { KubeObject } from '../model/objects.js';
import type { DeploymentSpec } from '../model/specs.js';
import type { CanarySpec } from './spec.js';

/** Flagger identifies pods by this label; the primary gets `<value>-primary`. */
export const SELECTOR_LABEL = 'app';

function owner(c: CanarySpec) {
  return [{ apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: c.name, controller: true }];
}

export function primaryName(c: CanarySpec): string {
  return `${c.target}-primary`;
}

export function targetSelector(target: KubeObject): string {
  const spec = target.spec as unknown as DeploymentSpec;
  return spec.selector.matchLabels?.[SELECTOR_LABEL] ?? target.metadata.name;
}

/** The primary: the target's template with the selector label renamed to `<app>-primary`. */
export function primaryDeployment(c: CanarySpec, target: KubeObject, replicas: number): KubeObject {
  const spec = structuredClone(target.spec as unknown as DeploymentSpec);
  const app = targetSelector(target);
  const primaryApp = `${app}-primary`;
  const labels = { ...(spec.template.metadata?.labels ?? {}), [SELECTOR_LABEL]: primaryApp };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: primaryName(c), namespace: c.namespace, labels: { [SELECTOR_LABEL]: primaryApp }, ownerReferences: owner(c) },
    spec: {
      replicas,
      selector: { matchLabels: { [SELECTOR_LABEL]: primaryApp } },
      template: { ...spec.template, metadata: { ...spec.template.metadata, labels } },
    },
  };
}

function service(c: CanarySpec, name: string, app: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: c.namespace, labels: { [SELECTOR_LABEL]: name }, ownerReferences: owner(c) },
    spec: { selector: { [SELECTOR_LABEL]: app }, ports: [{ name: c.portName, port: c.port, targetPort: c.targetPort, protocol: 'TCP' }] },
  };
}

function destinationRule(c: CanarySpec, name: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'DestinationRule',
    metadata: { name, namespace: c.namespace, ownerReferences: owner(c) },
    spec: { host: name },
  };
}

/** The apex VirtualService with the given canary weight (primary gets the rest). */
export function virtualService(c: CanarySpec, canaryWeight: number): KubeObject {
  const primary = `${c.apex}-primary`;
  const canary = `${c.apex}-canary`;
  const weighted = [
    { destination: { host: primary }, weight: 100 - canaryWeight },
    { destination: { host: canary }, weight: canaryWeight },
  ];
  const http: Array<Record<string, unknown>> = [];
  if (c.match.length > 0) {
    http.push({ match: c.match, route: weighted });
    // With a match (A/B-style routing), everyone else stays on the primary.
    http.push({ route: [{ destination: { host: primary }, weight: 100 }] });
  } else {
    http.push({ route: weighted });
  }
  const hosts = [...new Set([...c.hosts, c.apex])];
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: c.apex, namespace: c.namespace, ownerReferences: owner(c) },
    spec: { hosts, gateways: c.gateways.length ? c.gateways : ['mesh'], http },
  };
}

/** Everything but the primary Deployment and the VirtualService (which change during a rollout). */
export function routingObjects(c: CanarySpec, target: KubeObject): KubeObject[] {
  const app = targetSelector(target);
  return [
    service(c, c.apex, `${app}-primary`),
    service(c, `${c.apex}-primary`, `${app}-primary`),
    service(c, `${c.apex}-canary`, app),
    destinationRule(c, `${c.apex}-canary`),
    destinationRule(c, `${c.apex}-primary`),
  ];
}
