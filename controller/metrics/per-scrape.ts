// One store read shared by every gauge of a scrape that needs it: prom-client collects a
// registry's gauges together (their collect() calls start in one tick), so a read in flight is
// shared and the next scrape reads afresh (a change in between is seen).
export function perScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (inFlight) return inFlight;
    const p = read();
    inFlight = p;
    const done = (): void => {
      if (inFlight === p) inFlight = undefined;
    };
    p.then(done, done);
    return p;
  };
}
