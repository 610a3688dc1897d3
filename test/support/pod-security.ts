// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML
type Manifest = any;

/**
 * What the `restricted` Pod Security Standard and our deployment require of a pod spec, as
 * violations (empty when it passes): no escalation, no capabilities, a read-only root, 1000:1000,
 * RuntimeDefault seccomp, an emptyDir at /tmp, only the restricted volume types, no host namespaces.
 */
export function restrictedViolations(pod: Manifest): string[] {
  const violations: string[] = [];
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const context = { ...pod.securityContext, ...container.securityContext };
    const own = container.securityContext ?? {};
    const check = (ok: boolean, what: string) =>
      ok || violations.push(`${container.name}: ${what}`);
    check(own.allowPrivilegeEscalation === false, 'allowPrivilegeEscalation: false');
    check(own.capabilities?.drop?.includes('ALL'), 'capabilities.drop: [ALL]');
    check((own.capabilities?.add ?? []).length === 0, 'no added capabilities');
    check(own.readOnlyRootFilesystem === true, 'readOnlyRootFilesystem: true');
    check(own.privileged !== true, 'not privileged');
    check(context.runAsNonRoot === true, 'runAsNonRoot: true');
    check(context.runAsUser === 1000 && context.runAsGroup === 1000, 'runs as 1000:1000');
    check(context.seccompProfile?.type === 'RuntimeDefault', 'seccompProfile RuntimeDefault');
    const tmp = container.volumeMounts?.find((m: Manifest) => m.mountPath === '/tmp');
    const volume = pod.volumes?.find((v: Manifest) => v.name === tmp?.name);
    check(volume?.emptyDir !== undefined, 'a writable emptyDir at /tmp');
  }
  const allowed = ['configMap', 'downwardAPI', 'emptyDir', 'projected', 'secret'];
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name');
    if (!allowed.includes(type ?? '')) violations.push(`volume ${volume.name}: ${type}`);
  }
  for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) {
    if (pod[host]) violations.push(host);
  }
  return violations;
}
