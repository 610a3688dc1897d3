/** Every table of the project; drizzle-kit generates migrations from this module. */
export * from './apiserver.js';
export * from './device-api.js';
export * from './devices.js';
export * from './events.js';
export * from './notifications.js';
export * from './rollout-selections.js';
export * from './rollout-targets.js';
export * from './webhooks.js';
