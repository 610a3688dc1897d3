import { sameSecret } from '../api/same-secret.js';
import { bearerToken } from '../devices/credentials.js';
import { unauthorized } from '../devices/problems.js';
import { documentSecurity } from '../http/openapi.js';
import type { HttpPlugin } from '../http/server.js';
import type { ManagementDeps } from './context.js';
import { registerFreezeRoutes } from './freeze-routes.js';
import { registerPolicyChecks } from './policy-checks.js';
import { registerPolicyRoutes } from './policy-routes.js';
import { registerRolloutActions } from './rollout-actions.js';
import { registerRolloutReads } from './rollout-routes.js';

export type { ManagementDeps } from './context.js';

/**
 * The management REST API (admin bearer token): rollouts, policies, preview and freeze for
 * dashboards and scripts without kubectl. It keeps no state: every answer is read from, and every
 * change written to, the Kubernetes resources through the client port.
 */
export function managementRoutes(deps: ManagementDeps): HttpPlugin {
  const logger = deps.logger.child({ component: 'management-api' });
  const scoped = { ...deps, logger };
  return async (app) => {
    app.addHook('onRequest', async (request) => {
      const token = bearerToken(request.headers.authorization);
      if (token === undefined || !sameSecret(token, deps.adminToken)) {
        throw unauthorized('admin token');
      }
    });
    documentSecurity(app, [{ adminToken: [] }]);
    registerRolloutReads(app, scoped);
    registerRolloutActions(app, scoped);
    registerPolicyRoutes(app, scoped);
    registerPolicyChecks(app, scoped);
    registerFreezeRoutes(app, scoped);
  };
}
