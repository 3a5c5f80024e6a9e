/**
 * `mpirun` arguments for `np` ranks on this machine: more ranks than cores allowed, no core binding
 * (Open MPI pins each rank to one core by default, which starves multi-threaded ranks), shared
 * memory without cross-memory attach (often forbidden in containers), and `--allow-run-as-root`
 * when running as root. Append the command: `mpirun ...localMpirunArgs(2) node train.js`.
 */
export function localMpirunArgs(np: number): string[] {
  if (!(Number.isInteger(np) && np >= 1))
    throw new RangeError(`localMpirunArgs: np must be a positive integer, got ${np}`);
  const asRoot = globalThis.process?.getuid?.() === 0 ? ['--allow-run-as-root'] : [];
  return [
    ...asRoot,
    ...['-np', String(np), '--oversubscribe', '--bind-to', 'none'],
    ...['--mca', 'btl', 'self,vader', '--mca', 'btl_vader_single_copy_mechanism', 'none'],
  ];
}
