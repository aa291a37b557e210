/**
 * `@kubernetes-models/istio` (2.3, Istio 1.18 schemas) as a second oracle: whatever its model
 * rejects, we must reject too. It is not the runtime validator because it misses what strict
 * validation needs (documented below): unknown fields, `destination.host`, Gateway server
 * `port`/`hosts`, and it has no networking/v1 (validated here with the v1beta1 models).
 */
import { DestinationRule as DRv1a3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/DestinationRule';
import { Gateway as GWv1a3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/Gateway';
import { ServiceEntry as SEv1a3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/ServiceEntry';
import { Sidecar as SCv1a3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/Sidecar';
import { VirtualService as VSv1a3 } from '@kubernetes-models/istio/networking.istio.io/v1alpha3/VirtualService';
import { DestinationRule as DRv1b1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/DestinationRule';
import { Gateway as GWv1b1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Gateway';
import { ServiceEntry as SEv1b1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/ServiceEntry';
import { Sidecar as SCv1b1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/Sidecar';
import { VirtualService as VSv1b1 } from '@kubernetes-models/istio/networking.istio.io/v1beta1/VirtualService';
import { describe, expect, test } from 'vitest';
import { parseManifests } from '../../../src/config/manifest.js';
import { validateObject } from '../../../src/config/validate.js';
import type { KubeObject } from '../../../src/model/objects.js';
import { CORPUS } from './corpus.js';
import { vs } from './helpers.js';

type Ctor = new (data: Record<string, unknown>) => { validate(): void };
const MODELS: Record<string, Record<string, Ctor>> = {
  v1alpha3: { VirtualService: VSv1a3, DestinationRule: DRv1a3, Gateway: GWv1a3, ServiceEntry: SEv1a3, Sidecar: SCv1a3 } as unknown as Record<string, Ctor>,
  v1beta1: { VirtualService: VSv1b1, DestinationRule: DRv1b1, Gateway: GWv1b1, ServiceEntry: SEv1b1, Sidecar: SCv1b1 } as unknown as Record<string, Ctor>,
};

/** The model's error text, or undefined when it accepts the object (v1 checked as v1beta1). */
function modelError(o: KubeObject): string | undefined {
  const version = o.apiVersion.split('/')[1] === 'v1alpha3' ? 'v1alpha3' : 'v1beta1';
  const Model = MODELS[version]![o.kind];
  if (!Model) return undefined;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  try {
    new Model(rest).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function objects(text: string): KubeObject[] {
  return parseManifests(text, 'm.yaml').documents.map((d) => d.object);
}

function ours(o: KubeObject): string[] {
  return validateObject(o, { file: 'm.yaml', index: 0 }, { defaultNamespace: 'istioinaction' }).errors.map(String);
}

describe('whatever @kubernetes-models/istio rejects, we reject', () => {
  test.each(CORPUS)('%s', (_name, text) => {
    for (const o of objects(text)) {
      const theirs = modelError(o);
      if (theirs !== undefined) expect(ours(o).length, `model: ${theirs}`).toBeGreaterThan(0);
    }
  });
});

describe('what the model misses, and why it is not the validator', () => {
  test.each([
    ['an unknown field (hots)', vs('hots: [catalog]\nhttp: [{route: [{destination: {host: catalog}}]}]\n')],
    ['a destination without host', vs('hosts: [catalog]\nhttp: [{route: [{destination: {subset: v1}}]}]\n')],
    [
      'a Gateway server without port and hosts',
      'apiVersion: networking.istio.io/v1alpha3\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  servers: [{name: x}]\n',
    ],
  ])('%s: the model accepts it, we do not', (_name, text) => {
    const [o] = objects(text);
    expect(modelError(o!)).toBeUndefined();
    expect(ours(o!).length).toBeGreaterThan(0);
  });
});
