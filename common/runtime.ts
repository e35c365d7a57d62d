// Which JavaScript runtime runs this process (sidestash runs unchanged on Node.js and Deno).
export function runtimeName(): string {
  const deno = (process.versions as Record<string, string | undefined>).deno;
  return deno ? `deno ${deno}` : `node ${process.version}`;
}
