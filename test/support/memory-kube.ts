import type { ImagePolicy, ImageRollout } from '../../src/api/types.js';
import { KubeApiError } from '../../src/kube/port.js';
import type { WebhookKube } from '../../src/webhooks/process-delivery.js';

/**
 * An in-memory stand-in for the API server's policy list and rollout create, with its name
 * uniqueness (409 AlreadyExists). `failCreates` makes creates fail like an unreachable server.
 */
export class MemoryKube implements WebhookKube {
  policies: ImagePolicy[] = [];
  readonly rollouts = new Map<string, ImageRollout>();
  failCreates = false;
  /** Refuses rollouts whose image is longer than the CRD allows, as the API server does (422). */
  readonly maxImageLength = 255;

  readonly imagePolicies = {
    list: async () => structuredClone(this.policies),
  };

  readonly imageRollouts = {
    create: async (rollout: ImageRollout) => {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.failCreates)
        throw new KubeApiError('connect ECONNREFUSED', 503, 'ServiceUnavailable');
      if (rollout.spec.image.length > this.maxImageLength) {
        throw new KubeApiError('spec.image: Too long', 422, 'Invalid');
      }
      const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
      if (this.rollouts.has(key)) {
        throw new KubeApiError(`imagerollouts "${key}" already exists`, 409, 'AlreadyExists');
      }
      this.rollouts.set(key, structuredClone(rollout));
      return rollout;
    },
  };
}
