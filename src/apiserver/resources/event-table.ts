import { isObject, type JsonObject } from '../json.js';
import { timestampSince } from '../table.js';
import { type BuiltinColumn, metadataOf } from './define.js';

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The event printer of `kubectl get events`, over the core form. */
export function eventColumns(core: (object: JsonObject) => JsonObject): BuiltinColumn[] {
  const view =
    (cell: (event: JsonObject, now: Date) => unknown) => (object: JsonObject, now: Date) =>
      cell(core(object), now);
  const firstSeen = (e: JsonObject, now: Date) =>
    timestampSince(e.firstTimestamp ?? e.eventTime, now);
  const involved = (e: JsonObject) => (isObject(e.involvedObject) ? e.involvedObject : {});
  const series = (e: JsonObject) => (isObject(e.series) ? e.series : undefined);
  return [
    {
      name: 'Last Seen',
      description: 'The time at which the most recent occurrence of this event was recorded.',
      cell: view((e, now) => {
        const s = series(e);
        if (s) return timestampSince(s.lastObservedTime, now);
        return e.lastTimestamp ? timestampSince(e.lastTimestamp, now) : firstSeen(e, now);
      }),
    },
    {
      name: 'Type',
      description: 'Type of this event (Normal, Warning).',
      cell: view((e) => text(e.type)),
    },
    {
      name: 'Reason',
      description: 'Short, machine understandable string that gives the reason for the transition.',
      cell: view((e) => text(e.reason)),
    },
    {
      name: 'Object',
      description: 'The object that this event is about.',
      cell: view((e) => `${text(involved(e).kind).toLowerCase()}/${text(involved(e).name)}`),
    },
    {
      name: 'Subobject',
      priority: 1,
      description: 'The field of the object this event is about.',
      cell: view((e) => text(involved(e).fieldPath)),
    },
    {
      name: 'Source',
      priority: 1,
      description: 'The component reporting this event.',
      cell: view((e) => {
        const source = isObject(e.source) ? e.source : {};
        const component = text(source.component) || text(e.reportingComponent);
        const instance = text(source.host) || text(e.reportingInstance);
        return component && instance ? `${component}, ${instance}` : component;
      }),
    },
    {
      name: 'Message',
      description: 'A human-readable description of the status of this operation.',
      cell: view((e) => text(e.message)),
    },
    {
      name: 'First Seen',
      priority: 1,
      description: 'The time at which the event was first recorded.',
      cell: view(firstSeen),
    },
    {
      name: 'Count',
      priority: 1,
      description: 'The number of times this event has occurred.',
      cell: view((e) => String(series(e)?.count ?? e.count ?? '')),
    },
    {
      name: 'Name',
      priority: 1,
      format: 'name',
      description: 'Name of the event.',
      cell: view((e) => text(metadataOf(e).name)),
    },
  ];
}
