/**
 * Runs async tasks with at most `jobs` in flight, calling `onDone` as each finishes (in
 * completion order), so callers can persist results the moment they exist.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  jobs: number,
  task: (item: T, index: number) => Promise<R>,
  onDone?: (result: R, item: T, index: number) => void,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const r = await task(items[i], i);
      results[i] = r;
      onDone?.(r, items[i], i);
    }
  };
  const n = Math.max(1, Math.min(jobs, items.length));
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
