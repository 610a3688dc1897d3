import type { EventsV1Event } from '@kubernetes/client-node';
import { type EventClient, KubeApiError } from '../../src/kube/port.js';

/** In-memory Events: create stores, merge patch merges `series`; `failing` rejects calls. */
export class MemoryEvents implements EventClient {
  readonly events = new Map<string, EventsV1Event>();
  failing = false;
  calls = 0;

  async create(event: EventsV1Event): Promise<EventsV1Event> {
    this.calls++;
    if (this.failing) throw new Error('connect ECONNREFUSED');
    const key = `${event.metadata?.namespace}/${event.metadata?.name}`;
    if (this.events.has(key)) throw new KubeApiError('exists', 409, 'AlreadyExists');
    this.events.set(key, event);
    return event;
  }

  async mergePatch(namespace: string, name: string, patch: unknown): Promise<EventsV1Event> {
    this.calls++;
    if (this.failing) throw new Error('connect ECONNREFUSED');
    const current = this.events.get(`${namespace}/${name}`);
    if (!current) throw new KubeApiError('not found', 404, 'NotFound');
    const merged = { ...current, ...(patch as object) } as EventsV1Event;
    this.events.set(`${namespace}/${name}`, merged);
    return merged;
  }

  async list(namespace: string): Promise<EventsV1Event[]> {
    return [...this.events.values()].filter((event) => event.metadata?.namespace === namespace);
  }
}
