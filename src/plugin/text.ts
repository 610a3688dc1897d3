/* Text helpers of the plugin's output: aligned tables, ages, progress bars. */

/** Columns aligned as kubectl aligns them: left-justified, three spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, i) =>
          i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - [...cell].length),
        )
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

/** An age as kubectl prints it: `45s`, `12m`, `5h`, `3d`; `<unknown>` without a time. */
export function age(time: string | undefined, now: Date): string {
  const ms = time === undefined ? Number.NaN : now.getTime() - Date.parse(time);
  if (Number.isNaN(ms)) return '<unknown>';
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

/** Device counts a progress bar draws. */
export interface BarCounts {
  devices: number;
  /** On the new image (healthy, soaking or updating). */
  updated: number;
  healthy: number;
  failed: number;
}

/** Legend of the progress bars. */
export const BAR_LEGEND = '█ healthy   ▒ updating or soaking   ✗ failed   · not updated yet';

/**
 * A bar of `width` cells: healthy `█`, updated but not healthy yet `▒`, failed `✗`, the rest
 * `·`, each part in proportion to the batch's devices (a part with any device gets a cell).
 */
export function progressBar(counts: BarCounts, width: number): string {
  const total = Math.max(counts.devices, 1);
  const parts = [counts.healthy, Math.max(0, counts.updated - counts.healthy), counts.failed].map(
    (count) => (count <= 0 ? 0 : Math.max(1, Math.round((width * count) / total))),
  );
  let over = parts.reduce((sum, cells) => sum + cells, 0) - width;
  for (let i = 0; over > 0 && i < parts.length * width; i++) {
    const largest = parts.indexOf(Math.max(...parts));
    parts[largest] = (parts[largest] as number) - 1;
    over--;
  }
  const [healthy = 0, updating = 0, failed = 0] = parts;
  const rest = Math.max(0, width - healthy - updating - failed);
  return `[${'█'.repeat(healthy)}${'▒'.repeat(updating)}${'✗'.repeat(failed)}${'·'.repeat(rest)}]`;
}
