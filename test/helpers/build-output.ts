/**
 * The steps of a legacy-builder transcript (`Step 2/5 : RUN …`), each with
 * whether it came from the cache (` ---> Using cache`).
 *
 *   buildSteps(r.stdout)  // [{ step: 'FROM busybox', cached: false }, { step: 'ENV A=1', cached: true }, …]
 */
export function buildSteps(out: string): { step: string; cached: boolean }[] {
  const res: { step: string; cached: boolean }[] = [];
  for (const line of out.split('\n')) {
    const m = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (m) res.push({ step: m[1], cached: false });
    else if (line === ' ---> Using cache') res[res.length - 1].cached = true;
  }
  return res;
}
