import type { StepContext } from './scenario.js';

/** The state 5.2 ends in: catalog v1+v2, webapp behind coolstore-gateway, the DestinationRule. */
export async function callGraphSetup(ctx: StepContext, catalogFiles = ['services/catalog/kubernetes/catalog.yaml', 'services/catalog/kubernetes/catalog-deployment-v2.yaml']): Promise<void> {
  for (const f of catalogFiles) await ctx.lab(['apply', '-f', f, '-n', 'istioinaction']);
  await ctx.lab(['apply', '-f', 'services/webapp/kubernetes/webapp.yaml', '-n', 'istioinaction']);
  await ctx.lab(['apply', '-f', 'services/webapp/istio/webapp-catalog-gw-vs.yaml', '-n', 'istioinaction']);
  await ctx.lab(['apply', '-f', 'ch5/catalog-dest-rule.yaml', '-n', 'istioinaction']);
}
