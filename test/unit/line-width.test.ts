import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The formatter keeps code within 120 columns but never breaks a string literal or a comment, so this
 * test holds those to the same width (docs/development.md, Linting and formatting).
 */
const ROOT = join(__dirname, '..', '..');
const MAX = 120;

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.tsx', '*.js', '*.mjs', '*.cjs'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file.length > 0 && !file.startsWith('web/dist/') && !file.includes('node_modules/'));
}

describe('line width', () => {
  it(`no source line is longer than ${MAX} characters`, () => {
    const files = sourceFiles();
    expect(files.length).toBeGreaterThan(100);
    const long: string[] = [];
    for (const file of files) {
      readFileSync(join(ROOT, file), 'utf8')
        .split('\n')
        .forEach((line, index) => {
          const width = [...line].length;
          if (width > MAX) long.push(`${file}:${index + 1} (${width})`);
        });
    }
    expect(long).toEqual([]);
  });
});
