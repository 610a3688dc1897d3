import { client, createNamespace, type Step } from '../steps.js';

const SCRIPTS = 'test/cluster/fidelity/clients';

/**
 * Real client libraries besides kubectl and client-node, through their own APIs: discovery
 * helpers, CRUD of custom and built-in objects, their errors and their watches.
 */
export const clients: Step[] = [
  createNamespace('fidelity-python'),
  // Debian's python3-kubernetes lives in the system Python, not in pyenv's.
  client('python', '/usr/bin/python3', [`${SCRIPTS}/python-client.py`], {
    namespace: 'fidelity-python',
  }),
  createNamespace('fidelity-ruby'),
  client('ruby', 'ruby', [`${SCRIPTS}/ruby-client.rb`], { namespace: 'fidelity-ruby' }),
];
