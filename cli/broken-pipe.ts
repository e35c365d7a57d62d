// A reader that closes the CLI's standard output early (`sidestash repo dump ... | head`) is
// not an error: the command stops what it was doing and ends quietly with exit status 0.
export function isBrokenPipe(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === 'EPIPE') return true;
  }
  return false;
}

/**
 * Watches standard output for EPIPE; `onClosed` runs once when the reader has gone (the caller
 * aborts its work there). `closed()` tells whether it happened.
 */
export function watchStdoutClosed(stdout: NodeJS.WriteStream, onClosed: () => void): { closed: () => boolean } {
  let closed = false;
  stdout.on('error', (err) => {
    // After the reader went, the work's abort destroys stdout again (an AbortError): ignored.
    if (closed) return;
    if (!isBrokenPipe(err)) throw err;
    closed = true;
    onClosed();
  });
  return { closed: () => closed };
}
