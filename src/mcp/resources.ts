// The resources the server publishes. Contents come from the core's overviews; no secrets.
import type { AiKeyManagerCore } from '../core/service';
import { providersResource, routingResource, usageResource } from './wire';

export interface ResourceDef {
  name: string;
  uri: string;
  title: string;
  description: string;
  read(core: AiKeyManagerCore): unknown;
}

export const RESOURCES: ResourceDef[] = [
  {
    name: 'providers',
    uri: 'api://providers',
    title: 'Providers',
    description: 'The provider catalog: enabled state, base URL, key presence and status (masked), health.',
    read: (core) => providersResource(core.providersOverview()),
  },
  {
    name: 'usage',
    uri: 'api://usage',
    title: 'Usage',
    description: 'Usage and cost today and this month, per provider and model, with budget status.',
    read: (core) => usageResource(core.usageOverview()),
  },
  {
    name: 'routing',
    uri: 'api://routing',
    title: 'Routing',
    description: 'The task → provider map, fallback order, and current recommendations.',
    read: (core) => routingResource(core.routingOverview()),
  },
];
