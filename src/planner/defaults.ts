/** Defaults of unset fields, as the CRDs declare them (crds/imagepolicies.yaml). */
export const ROLLOUT_DEFAULTS = {
  type: 'Staged',
  batches: [10, 50, 100],
  interval: '10m',
  onNewImage: 'Supersede',
  includeNewDevices: false,
  soakTime: '5m',
  progressDeadline: '30m',
  offlineAfter: '10m',
  maxFailurePercent: 10,
  minSample: 3,
  action: 'Pause',
  /** A health check's `periodSeconds`. */
  checkPeriodSeconds: 10,
} as const;
