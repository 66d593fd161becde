/**
 * The project's documents hold its spec: the README stays a short front door, every relative link in
 * README.md and docs/ resolves (file and heading), and no file cites a document outside the
 * repository or an issue number (docs/development.md, Test tiers).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
/** Generated, installed or local-only folders: not the project's own text. */
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.data', 'cdk.out', 'dist', 'coverage']);
const TEXT = /\.(ts|tsx|js|cjs|mjs|json|md|yml|yaml|html|css|sh)$|^run$/;
/** This file spells the forbidden patterns out, and the lockfile is npm's. */
const EXEMPT = new Set(['test/unit/docs.test.ts', 'package-lock.json']);

function files(dir = ''): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return SKIPPED_DIRS.has(e.name) ? [] : files(rel);
    return TEXT.test(e.name) && !EXEMPT.has(rel) ? [rel] : [];
  });
}

const FORBIDDEN: ReadonlyArray<readonly [string, RegExp]> = [
  ['a section of the old external contract', /CONTRACT §|CONTRACT\.md/],
  ['the old style guide', /STYLE\.md/],
  ['a document outside the repository', /\.\.\/shared\/[A-Z]+\.md|\/work\/shared/],
  ['an issue number', /\bissues? ?#?\d+/i],
  ['an issue number', /(^|[\s(])#\d{1,3}\b/m],
];
/** Colours such as `#333` are not issue numbers. */
const forbiddenIn = (file: string) =>
  file.endsWith('.css') ? FORBIDDEN.filter(([, re]) => !re.source.includes('#')) : FORBIDDEN;

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of withoutFences(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading!
      .replace(/`/g, '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Fenced blocks, whose lines are neither headings nor links. */
function withoutFences(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** Fenced blocks and inline code, whose brackets are not links. */
function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/`[^`\n]*`/g, '');
}

/** The relative link targets of a markdown text (no scheme, no mailto). */
export function relativeLinks(markdown: string): string[] {
  return [...withoutCode(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

const markdownFiles = ['README.md', ...files('docs').filter((f) => f.endsWith('.md'))];

describe('README', () => {
  it('is a front door of at most 250 lines that keeps the two commands', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm ci && npm test');
  });
});

describe('links', () => {
  it('finds the documents and the links it checks (the check itself can fail)', () => {
    expect(markdownFiles).toEqual(expect.arrayContaining(['README.md', 'docs/api.md', 'docs/architecture.md']));
    expect(relativeLinks('[a](docs/x.md#y) ![b](img.png) [c](https://x.test) `[d](e.md)`')).toEqual([
      'docs/x.md#y',
      'img.png',
    ]);
    expect([...anchorsOf('# A `b` c\n## Limits and edges\n## Limits and edges\n```\n# not\n```')]).toEqual([
      'a-b-c',
      'limits-and-edges',
      'limits-and-edges-1',
    ]);
  });

  it.each(markdownFiles)('every relative link of %s resolves to a file (and a heading)', (file) => {
    const text = readFileSync(path.join(ROOT, file), 'utf8');
    const broken = relativeLinks(text).filter((target) => {
      const [target_path = '', anchor] = target.split('#');
      const resolved =
        target_path === ''
          ? path.join(ROOT, file)
          : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(target_path));
      if (!existsSync(resolved)) return true;
      if (anchor === undefined || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) return false;
      return !anchorsOf(readFileSync(resolved, 'utf8')).has(anchor);
    });
    expect(broken).toEqual([]);
  });
});

describe('citations', () => {
  const all = files();

  it('reads the whole repository (the check itself can fail)', () => {
    expect(all).toEqual(
      expect.arrayContaining([
        'README.md',
        'functions/domain/status.ts',
        'test/unit/architecture.test.ts',
        'package.json',
      ]),
    );
    expect(FORBIDDEN.some(([, re]) => re.test('see issue 12'))).toBe(true);
    expect(FORBIDDEN.some(([, re]) => re.test("sk: 'ENTRY#TAG#00'"))).toBe(false);
    expect(forbiddenIn('web/src/app.css').some(([, re]) => re.test('color: #333;'))).toBe(false);
  });

  it('no file cites the old contract or style guide, a document outside the repository, or an issue number', () => {
    const hits = all.flatMap((file) =>
      readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          forbiddenIn(file)
            .filter(([, re]) => re.test(line))
            .map(([what]) => `${file}:${i + 1}: ${what}: ${line.trim().slice(0, 120)}`),
        ),
    );
    expect(hits).toEqual([]);
  });
});
