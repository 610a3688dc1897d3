import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Endpoint, HttpRequest, RawAnswer } from './endpoints.js';
import { normalizeJson, normalizeTable, normalizeText, parseBody } from './normalize.js';

/** Values a step saved for later steps of the same server (a resourceVersion, a token). */
export type Vars = Record<string, string>;

/** A value, or a function of the server's saved values. */
export type Dyn<T> = T | ((vars: Vars) => T);

/** One compared answer: its name in the corpus and the normalized value of one server. */
export interface Entry {
  name: string;
  value: unknown;
  /** The id of the documented difference this entry is expected to show. */
  expected?: string;
}

/** One step of the corpus; run once against each server, in corpus order. */
export interface Step {
  name: string;
  run(endpoint: Endpoint, vars: Vars): Promise<Entry[]>;
}

/** Options of an HTTP step. */
export interface HttpOptions {
  /** Documented difference this request shows. */
  expected?: string;
  /** Keeps values of the (parsed, not normalized) body for later steps. */
  save?: (body: Json, vars: Vars) => void;
  /** Reduces the body to what both servers serve (discovery, lists of shared resources). */
  select?: (body: Json) => unknown;
  /** Repeats the request (up to 60 s) until this holds: asynchronous work of the real server. */
  until?: (answer: RawAnswer, body: Json) => boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: the corpus reads arbitrary JSON answers
export type Json = any;

const resolve = <T>(value: Dyn<T>, vars: Vars): T =>
  typeof value === 'function' ? (value as (vars: Vars) => T)(vars) : value;

/** What of an HTTP answer is compared. */
function transcript(answer: RawAnswer, body: unknown) {
  return {
    status: answer.status,
    mediaType: answer.contentType.split(';')[0]?.trim(),
    warnings: answer.warnings.map(normalizeText),
    body: normalizeJson(body),
  };
}

async function repeat<T>(attempt: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await attempt();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((wake) => setTimeout(wake, 250));
  }
}

/** A raw HTTP request. */
export function http(name: string, request: Dyn<HttpRequest>, options: HttpOptions = {}): Step {
  return {
    name,
    async run(endpoint, vars) {
      const send = async () => {
        const answer = await endpoint.send(resolve(request, vars));
        return { answer, body: parseBody(answer.text) as Json };
      };
      const until = options.until;
      const { answer, body } = until
        ? await repeat(send, ({ answer, body }) => until(answer, body))
        : await send();
      options.save?.(body, vars);
      const shown =
        options.select && body && typeof body === 'object' ? options.select(body) : body;
      return [{ name, value: transcript(answer, shown), expected: options.expected }];
    },
  };
}

/** Options of a kubectl step. */
export interface KubectlOptions {
  expected?: string;
  input?: string;
  /** Keeps only these lines of the output (what both servers serve). */
  keep?: (line: string) => boolean;
  /** Repeats kubectl (up to 60 s) until this holds. */
  until?: (result: { code: number; stdout: string }) => boolean;
}

/** A kubectl command; JSON output is compared as JSON, tables with their ages normalized. */
export function kubectl(name: string, args: Dyn<string[]>, options: KubectlOptions = {}): Step {
  return {
    name,
    async run(endpoint, vars) {
      const call = () => endpoint.kubectl(resolve(args, vars), options.input);
      const until = options.until;
      const result = until ? await repeat(call, until) : await call();
      const keep = options.keep;
      if (keep) result.stdout = result.stdout.split('\n').filter(keep).join('\n');
      let stdout: unknown;
      try {
        stdout = normalizeJson(JSON.parse(result.stdout));
      } catch {
        stdout = normalizeTable(result.stdout);
      }
      const value = { code: result.code, stdout, stderr: normalizeTable(result.stderr) };
      return [{ name, value, expected: options.expected }];
    },
  };
}

/** Options of a client step. */
export interface ClientOptions {
  /** The namespace the script works in (created by an earlier step). */
  namespace: string;
}

/**
 * A script driving a client library (the Python client, Ruby's kubeclient) through a fixed
 * sequence; it reads FIDELITY_URL, FIDELITY_CA_FILE, FIDELITY_TOKEN and FIDELITY_NAMESPACE and
 * prints a JSON list of `{ name, value }`. Each entry is compared as `<name> › <entry name>`.
 */
export function client(
  name: string,
  command: string,
  args: string[],
  options: ClientOptions,
): Step {
  return {
    name,
    async run(endpoint) {
      const caFile = join(endpoint.home, 'client-ca.crt');
      await writeFile(caFile, endpoint.certificate);
      const env = {
        ...process.env,
        FIDELITY_URL: endpoint.url,
        FIDELITY_CA_FILE: caFile,
        FIDELITY_TOKEN: endpoint.token,
        FIDELITY_NAMESPACE: options.namespace,
      };
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(command, args, { env, timeout: 60_000 }, (error, out, err) => {
          if (error) reject(new Error(`${name} on ${endpoint.name}: ${err}`, { cause: error }));
          else resolve(out);
        });
      });
      // Each server names its own address (serverAddressByClientCIDRs): not a difference.
      const ownAddress = new URL(endpoint.url).host;
      const transcript = JSON.parse(stdout.replaceAll(ownAddress, '<server>')) as Array<{
        name: string;
        value: unknown;
      }>;
      return transcript.map((entry) => ({
        name: `${name} › ${entry.name}`,
        value: normalizeJson(entry.value),
      }));
    },
  };
}

/** Something done to both servers that is not itself compared (compaction, a pause). */
export function effect(name: string, act: (endpoint: Endpoint, vars: Vars) => Promise<void>) {
  return {
    name,
    async run(endpoint: Endpoint, vars: Vars) {
      await act(endpoint, vars);
      return [];
    },
  } satisfies Step;
}

/** An object of our group: `fleet.iotistic.io/v1alpha1`, kind, name, spec and extra metadata. */
export function fleetObject(
  kind: 'ImagePolicy' | 'ImageRollout',
  name: string,
  spec: Json,
  metadata: Json = {},
) {
  return { apiVersion: 'fleet.iotistic.io/v1alpha1', kind, metadata: { name, ...metadata }, spec };
}

/** A valid ImagePolicy spec. */
export const POLICY_SPEC = { image: 'ghcr.io/acme/web', selector: { fleets: ['edge'] } };
/** A valid ImageRollout spec. */
export const ROLLOUT_SPEC = {
  policyRef: { name: 'web' },
  image: 'ghcr.io/acme/web',
  tag: '1.0.0',
};

/** The fleet group's path prefix of a namespace. */
export const fleetPath = (namespace: string, plural: 'imagepolicies' | 'imagerollouts') =>
  `/apis/fleet.iotistic.io/v1alpha1/namespaces/${namespace}/${plural}`;

/** Creates a namespace (compared like any other request). */
export function createNamespace(name: string, labels: Record<string, string> = {}): Step {
  return http(`create namespace ${name}`, {
    method: 'POST',
    path: '/api/v1/namespaces',
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } },
  });
}
