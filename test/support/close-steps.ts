/**
 * Runs clean-up steps one after the other, each with a deadline of its own, so a clean-up that
 * hangs fails with the name of the step that hangs instead of the hook's anonymous timeout.
 * Steps whose subject was never created are skipped (`undefined`).
 */
export async function closeInOrder(
  steps: Array<[label: string, step: (() => Promise<unknown>) | undefined]>,
  stepTimeoutMs = 15_000,
): Promise<void> {
  for (const [label, step] of steps) {
    if (!step) continue;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`clean-up step "${label}" did not finish in ${stepTimeoutMs} ms`)),
        stepTimeoutMs,
      );
    });
    try {
      await Promise.race([step(), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
