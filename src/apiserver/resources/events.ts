import { isObject, type JsonObject } from '../json.js';
import { fieldError } from '../schema/field-errors.js';
import type { FieldError, JSONSchemaProps } from '../schema/index.js';
import {
  builtinResource,
  metadataOf,
  OBJECT_META_MERGE_LISTS,
  TYPE_META_PROPERTIES,
} from './define.js';
import { eventColumns } from './event-table.js';
import type { ResourceType } from './types.js';

/**
 * Events, served as `events.k8s.io/v1` (what recorders write) and as core `v1` (what
 * `kubectl describe` reads), from one storage in the `events.k8s.io/v1` form.
 */

const EVENTS_STORAGE = 'events.events.k8s.io';

/** Core field name ↔ events.k8s.io field name, where they differ. */
const RENAMED: Array<[core: string, events: string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

function rename(object: JsonObject, pairs: Array<[string, string]>, apiVersion: string) {
  const result: JsonObject = { ...object, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete result[from];
    if (object[from] !== undefined) result[to] = object[from];
  }
  return result;
}

/** A stored (events.k8s.io/v1) event as core v1. */
function toCore(object: JsonObject): JsonObject {
  return rename(
    object,
    RENAMED.map(([core, events]) => [events, core]),
    'v1',
  );
}

/** A core v1 event in the stored events.k8s.io/v1 form. */
function toEvents(object: JsonObject): JsonObject {
  return rename(object, RENAMED, 'events.k8s.io/v1');
}

const str = (description: string): JSONSchemaProps => ({ type: 'string', description });
const time = (description: string): JSONSchemaProps => ({
  type: 'string',
  format: 'date-time',
  description,
});
const OBJECT_REFERENCE: JSONSchemaProps = {
  type: 'object',
  description:
    'ObjectReference contains enough information to let you inspect or modify the referred object.',
  properties: Object.fromEntries(
    ['apiVersion', 'kind', 'name', 'namespace', 'uid', 'resourceVersion', 'fieldPath'].map((f) => [
      f,
      str(f),
    ]),
  ),
};
const SERIES: JSONSchemaProps = {
  type: 'object',
  description: 'Data about the Event series this event represents.',
  properties: {
    count: { type: 'integer', format: 'int32' },
    lastObservedTime: time('Time of the last occurrence observed.'),
  },
};
const COMMON = {
  ...TYPE_META_PROPERTIES,
  eventTime: time('Time when this Event was first observed.'),
  series: SERIES,
  reportingInstance: str('ID of the controller instance, e.g. `kubelet-xyzf`.'),
  action: str('What action was taken/failed regarding to the regarding object.'),
  reason: str('Why the action was taken, in UpperCamelCase.'),
  related: OBJECT_REFERENCE,
  type: str('Type of this event (Normal, Warning).'),
};

function schemaOf(core: boolean): JSONSchemaProps {
  const extra: Record<string, JSONSchemaProps> = {
    involvedObject: OBJECT_REFERENCE,
    message: str('A human-readable description of the status of this operation.'),
    reportingComponent: str('Name of the controller that emitted this Event.'),
    source: {
      type: 'object',
      properties: {
        component: str('Component from which the event is generated.'),
        host: str('Node name on which the event is generated.'),
      },
    },
    firstTimestamp: time('The time at which the event was first recorded.'),
    lastTimestamp: time('The time at which the most recent occurrence of this event was recorded.'),
    count: {
      type: 'integer',
      format: 'int32',
      description: 'The number of times this event has occurred.',
    },
  };
  const properties: Record<string, JSONSchemaProps> = { ...COMMON };
  for (const [coreName, eventsName] of RENAMED) {
    properties[core ? coreName : eventsName] = extra[coreName] as JSONSchemaProps;
  }
  return {
    type: 'object',
    description: 'Event is a report of an event somewhere in the cluster.',
    properties,
  };
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** Checks of an events.k8s.io/v1 create, as upstream's strict validation. */
function validateEvent(object: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of [
    'eventTime',
    'reportingController',
    'reportingInstance',
    'action',
    'reason',
  ]) {
    if (!text(object[field])) errors.push(fieldError.required(field));
  }
  if (object.type !== 'Normal' && object.type !== 'Warning') {
    errors.push(fieldError.invalid('type', '', `has invalid value: ${text(object.type)}`));
  }
  if (text(object.note).length > 1024)
    errors.push(fieldError.invalid('note', '', 'can have at most 1024 characters'));
  return errors;
}

/** Checks of a core v1 create: the legacy rules. */
function validateCoreEvent(object: JsonObject): FieldError[] {
  const involved = isObject(object.involvedObject) ? object.involvedObject : {};
  const namespace = text(metadataOf(object).namespace);
  const involvedNamespace = text(involved.namespace);
  if (
    involvedNamespace
      ? involvedNamespace !== namespace
      : !['default', ''].includes(namespace) && !object.eventTime
  ) {
    return [
      fieldError.invalid(
        'involvedObject.namespace',
        involvedNamespace,
        'does not match event.namespace',
      ),
    ];
  }
  return [];
}

function referenceFields(prefix: string, field: string) {
  return Object.fromEntries(
    ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map(
      (key) => [
        `${prefix}.${key}`,
        (object: JsonObject) => text(isObject(object[field]) ? object[field][key] : undefined),
      ],
    ),
  );
}

/** What both views of Event declare alike. */
const SHARED = {
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  storage: EVENTS_STORAGE,
  allowCreateOnUpdate: true,
  strategicMergeLists: OBJECT_META_MERGE_LISTS,
  kind: 'Event',
  microTimes: ['eventTime', 'series.lastObservedTime'],
};

/** `events.k8s.io/v1` Event, the form event recorders write. */
export const eventResource: ResourceType = builtinResource({
  ...SHARED,
  group: 'events.k8s.io',
  version: 'v1',
  schema: schemaOf(false),
  validate: validateEvent,
  columns: eventColumns(toCore),
  selectableFields: {
    ...referenceFields('regarding', 'regarding'),
    reason: (o) => text(o.reason),
    reportingController: (o) => text(o.reportingController),
    type: (o) => text(o.type),
  },
});

/** Core `v1` Event, a view of the same objects, for `kubectl describe` and older clients. */
export const coreEventResource: ResourceType = builtinResource({
  ...SHARED,
  group: '',
  version: 'v1',
  schema: schemaOf(true),
  validate: validateCoreEvent,
  columns: eventColumns((object) => object),
  convert: { fromStorage: toCore, toStorage: toEvents },
  selectableFields: {
    ...referenceFields('involvedObject', 'involvedObject'),
    reason: (o) => text(o.reason),
    reportingComponent: (o) => text(o.reportingComponent),
    source: (o) => text(isObject(o.source) ? o.source.component : undefined),
    type: (o) => text(o.type),
  },
});
