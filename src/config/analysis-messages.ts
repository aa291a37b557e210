/**
 * istioctl analyze's message catalog for the codes the lab reports (Istio 1.16,
 * pkg/config/analysis/msg/messages.yaml: code, name, level), plus the lab's own checks (`LAB`
 * codes) where the book shows a trap Istio does not flag.
 */
export type AnalysisLevel = 'Error' | 'Warning' | 'Info';

export interface MessageType {
  code: string;
  name: string;
  level: AnalysisLevel;
}

export const MESSAGES: Record<string, MessageType> = {
  IST0101: { code: 'IST0101', name: 'ReferencedResourceNotFound', level: 'Error' },
  IST0104: { code: 'IST0104', name: 'GatewayPortNotOnWorkload', level: 'Warning' },
  IST0106: { code: 'IST0106', name: 'SchemaValidationError', level: 'Error' },
  IST0109: { code: 'IST0109', name: 'ConflictingMeshGatewayVirtualServiceHosts', level: 'Error' },
  IST0112: { code: 'IST0112', name: 'VirtualServiceDestinationPortSelectorRequired', level: 'Error' },
  IST0118: { code: 'IST0118', name: 'PortNameIsNotUnderNamingConvention', level: 'Info' },
  IST0130: { code: 'IST0130', name: 'VirtualServiceUnreachableRule', level: 'Warning' },
  IST0131: { code: 'IST0131', name: 'VirtualServiceIneffectiveMatch', level: 'Info' },
  IST0132: { code: 'IST0132', name: 'VirtualServiceHostNotFoundInGateway', level: 'Warning' },
  IST0133: { code: 'IST0133', name: 'SchemaWarning', level: 'Warning' },
  LAB0001: { code: 'LAB0001', name: 'ShadowedRoute', level: 'Warning' },
  LAB0002: { code: 'LAB0002', name: 'RouteWeightsNormalized', level: 'Info' },
};

export const LEVEL_ORDER: Record<AnalysisLevel, number> = { Info: 0, Warning: 1, Error: 2 };

/** The level of a code; a warning without a code is a schema warning. */
export function levelOf(code: string | undefined): AnalysisLevel {
  return (code && MESSAGES[code]?.level) || 'Warning';
}

/** Go's `%v` of a []string: `[a b]`. */
export function goList(items: readonly string[]): string {
  return `[${items.join(' ')}]`;
}

/** Go's `%q`. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
