/**
 * The README's walkthrough ("Using the API"), read from README.md itself and replayed against the
 * local service, so the two cannot drift. curl is not assumed on the machine: each command is parsed
 * (shell quoting, `$API`, `$NEXT`, the `jq` call that wraps a PEM file) and sent with fetch.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { LocalService } from '../../local/main';
import { certificate } from '../support/certificates';
import { startTestService } from '../support/http';

const README = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The shell block of the "Using the API" section, as commands (continuations joined, comments dropped). */
export function walkthrough(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf('## Using the API'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('no sh block under "## Using the API"');
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Splits a command line into words: single quotes literal; double quotes and bare words expand `$VAR` and `$(...)`. */
export function words(line: string, expand: (text: string) => string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    let word = '';
    while (i < line.length && line[i] !== ' ') {
      const c = line[i]!;
      if (c === "'") {
        const end = line.indexOf("'", i + 1);
        word += line.slice(i + 1, end);
        i = end + 1;
      } else if (c === '"') {
        let j = i + 1;
        let depth = 0;
        while (j < line.length && (line[j] !== '"' || depth > 0)) {
          if (line.startsWith('$(', j)) depth++;
          else if (line[j] === ')' && depth > 0) depth--;
          else if (line[j] === "'" && depth > 0) j = line.indexOf("'", j + 1);
          j++;
        }
        word += expand(line.slice(i + 1, j));
        i = j + 1;
      } else {
        let j = i;
        while (j < line.length && !' \'"'.includes(line[j]!)) j++;
        word += expand(line.slice(i, j));
        i = j;
      }
    }
    out.push(word);
  }
  return out;
}

interface CurlRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The request of a curl command line (the options the walkthrough uses). */
export function curlRequest(args: string[]): CurlRequest {
  if (args[0] !== 'curl') throw new Error(`not a curl command: ${args.join(' ')}`);
  const request: CurlRequest = { method: 'GET', url: '', headers: {} };
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-X') request.method = args[++i]!;
    else if (a === '-H') {
      const [name, ...value] = args[++i]!.split(':');
      request.headers[name!.trim().toLowerCase()] = value.join(':').trim();
    } else if (a === '-d') {
      request.body = args[++i]!;
      if (request.method === 'GET') request.method = 'POST';
    } else if (/^-[sig]+$/.test(a)) continue;
    else if (a.startsWith('-')) throw new Error(`curl option ${a} is not replayed by this test`);
    else request.url = a;
  }
  return request;
}

let service: LocalService;
let dir: string;
beforeAll(async () => {
  service = await startTestService();
  dir = mkdtempSync(path.join(tmpdir(), 'readme-'));
  writeFileSync(path.join(dir, 'device-001.pem'), (await certificate({ notAfter: '2099-01-01T00:00:00Z' })).pem);
});
afterAll(async () => {
  await service.stop();
});

it('the README walkthrough uses -g wherever a URL has brackets (curl would glob them)', () => {
  const commands = walkthrough(README);
  expect(commands.length).toBeGreaterThan(20);
  for (const line of commands.filter((c) => c.startsWith('curl') && /\[/.test(c.replace(/'[^']*'/g, ''))))
    expect([line, /^curl -\w*g/.test(line)]).toEqual([line, true]);
});

it('every step of the README walkthrough succeeds against the local service', async () => {
  const vars: Record<string, string> = { NEXT: '' };
  const expand = (text: string) =>
    text
      .replace(/\$\(jq -n --rawfile (\w+) (\S+) '\{certificate: \$\1\}'\)/g, (_, _v, file: string) =>
        JSON.stringify({ certificate: readFileSync(path.join(dir, file), 'utf8') }),
      )
      .replace(/\$(\w+)/g, (whole, name: string) => vars[name] ?? whole);
  const replies: { line: string; status: number }[] = [];
  for (const line of walkthrough(README)) {
    const assignment = /^(\w+)=(\S+)$/.exec(line);
    if (assignment) {
      // API=http://127.0.0.1:3000/v2 → the test service.
      vars[assignment[1]!] = assignment[1] === 'API' ? `${service.url}/v2` : assignment[2]!;
      continue;
    }
    const request = curlRequest(words(line, expand));
    const res = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    const text = await res.text();
    replies.push({ line, status: res.status });
    if (res.headers.get('content-type')?.includes('json') && text) {
      const body = JSON.parse(text) as { next?: unknown };
      if (typeof body.next === 'string') vars.NEXT = body.next;
    }
  }
  expect(replies.filter((r) => r.status >= 400)).toEqual([]);
  expect(replies.length).toBeGreaterThan(20);
});
