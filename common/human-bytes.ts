// A byte count for people, in binary units with one decimal (512 B, 1.5 KiB, 2.0 GiB): the CLI's
// tables and the controller's Kubernetes Events say sizes the same way.
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
