/**
 * Waits `ms` milliseconds; an abort ends the wait at once, rejecting with `reason()` (by default
 * the signal's own reason). Already aborted: rejects without waiting.
 * The one sleep of every retry and refresh loop.
 * @public
 */
export function abortableSleep(
  ms: number,
  signal?: AbortSignal,
  reason: () => unknown = () => signal?.reason,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(reason());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(reason());
      },
      { once: true },
    );
  });
}
