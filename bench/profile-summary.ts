/**
 * `npx tsx bench/profile-summary.ts <file.cpuprofile> <events>`: where a consumer's CPU went, in
 * µs per event, by component (a package under node_modules, a file of ours, Node's internals,
 * the garbage collector). Self time only, so the rows add up to the whole; idle time is left out.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function component(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  const ours = /\/(dist|src)\/(.+?)\.[jt]s$/.exec(url)?.[2];
  if (ours !== undefined) return `ours: ${ours}`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

function main(): void {
  const [file, eventsArg] = process.argv.slice(2);
  if (file === undefined || eventsArg === undefined) {
    console.error('usage: profile-summary <file.cpuprofile> <events>');
    process.exit(2);
  }
  const events = Number(eventsArg);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (node === undefined) return;
    const key = component(node);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const idle = totals.get('(idle)') ?? 0;
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((sum, us) => sum + us, 0);
  console.log(`busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
  console.log(`| component | µs per event | share |\n| --- | ---: | ---: |`);
  for (const [key, us] of [...totals].sort((a, b) => b[1] - a[1])) {
    if (us / busy < 0.005) continue;
    console.log(`| ${key} | ${(us / events).toFixed(1)} | ${((100 * us) / busy).toFixed(1)}% |`);
  }
  console.log(`| all | ${(busy / events).toFixed(1)} | 100% |`);
}

main();
