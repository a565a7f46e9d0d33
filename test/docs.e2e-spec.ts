/**
 * The documentation holds together, with no database: every relative link of
 * the Markdown pages (README.md, docs/, bench/README.md, CHANGELOG.md, the
 * examples' READMEs) resolves to a file or folder inside the repository, an
 * #anchor into a Markdown page to one of its headings (GitHub's slugs), and the
 * API guide's table of error codes is the one written from ERRORS (with
 * DOCS_WRITE=1, as `npm run docs:errors` runs it, this test writes it).
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ERROR_CODES, ERRORS } from '../src/common/problem';

const ROOT = resolve(__dirname, '..');

/** The API guide's table of error codes lies between these two lines. */
const TABLE_BEGIN =
  '<!-- error codes: written by npm run docs:errors from ERRORS in src/common/problem.ts -->';
const TABLE_END = '<!-- end of error codes -->';

/** The table of ERRORS, in Markdown, laid out as the formatter lays out a table. */
function errorCodeTable(): string {
  const rows = [
    ['code', 'status', 'meaning'],
    ...Object.entries(ERRORS).map(([code, e]) => [`\`${code}\``, String(e.status), e.meaning]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join(
    '\n',
  );
}

/** The pages whose links are checked, as paths from the root. */
function pages(): string[] {
  const found = ['README.md', 'CHANGELOG.md', 'bench/README.md'];
  for (const name of readdirSync(join(ROOT, 'docs')))
    if (name.endsWith('.md')) found.push(`docs/${name}`);
  for (const name of readdirSync(join(ROOT, 'examples'), { recursive: true, encoding: 'utf8' })) {
    const path = name.split('\\').join('/');
    if (!path.split('/').includes('node_modules') && /(^|\/)README\.md$/.test(path))
      found.push(`examples/${path}`);
  }
  return found;
}

/** The text outside fenced code blocks, line by line (fenced lines become empty). */
function prose(markdown: string): string[] {
  let fence: string | null = null;
  return markdown.split(/\r?\n/).map((line) => {
    const opener = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === null) {
      if (opener) {
        fence = opener[1];
        return '';
      }
      return line;
    }
    if (opener && opener[1][0] === fence[0] && opener[1].length >= fence.length) fence = null;
    return '';
  });
}

/** Removes code spans (their content is not Markdown). */
const withoutCode = (text: string) => text.replace(/(`+)[\s\S]*?\1/g, ' ');

/** The link destinations of a page: inline links and images, reference definitions, HTML href/src. */
export function linkTargets(markdown: string): string[] {
  const text = withoutCode(prose(markdown).join('\n'));
  const targets: string[] = [];
  const inline =
    /!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g;
  for (const m of text.matchAll(inline)) targets.push(m[1].replace(/^<|>$/g, ''));
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm))
    targets.push(m[1].replace(/^<|>$/g, ''));
  for (const m of text.matchAll(/\s(?:href|src)\s*=\s*"([^"]*)"/gi)) targets.push(m[1]);
  return targets;
}

/** A heading's anchor as GitHub makes it from its text. */
export function slug(heading: string): string {
  const code: string[] = [];
  let text = heading.replace(/(`+)([\s\S]*?)\1/g, (_, _ticks, inner: string) => {
    code.push(inner.trim());
    return `\uE000${code.length - 1}\uE000`;
  });
  text = text
    .replace(/!?\[((?:[^[\]]|\[[^\]]*\])*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // HTML tags
    .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, '$1') // _emphasis_
    .replace(/\uE000(\d+)\uE000/g, (_, i: string) => code[Number(i)]);
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a page has: its headings' slugs (numbered when repeated) and HTML ids and names. */
export function anchors(markdown: string): Set<string> {
  const lines = prose(markdown);
  const found = new Set<string>();
  const seen = new Map<string, number>();
  const add = (heading: string) => {
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  };
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(line);
    if (atx) add(atx[1] ?? '');
    else if (
      /^ {0,3}(=+|-+)\s*$/.test(line) &&
      i > 0 &&
      lines[i - 1].trim() !== '' &&
      !/^ {0,3}([#>|]|[-*+]\s|\d+[.)]\s)/.test(lines[i - 1])
    )
      add(lines[i - 1].trim());
  });
  for (const m of withoutCode(lines.join('\n')).matchAll(/\s(?:id|name)\s*=\s*"([^"]+)"/g))
    found.add(m[1]);
  return found;
}

/** What is wrong with one link of `page` (a path from the root), or null when it resolves. */
export function brokenLink(
  page: string,
  target: string,
  read: (path: string) => string | null,
): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return null; // not relative
  const hash = target.indexOf('#');
  const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
  const absolute =
    pathPart === ''
      ? join(ROOT, page)
      : pathPart.startsWith('/')
        ? join(ROOT, pathPart)
        : resolve(ROOT, dirname(page), pathPart);
  const inRepo = relative(ROOT, absolute);
  if (inRepo.startsWith('..') || isAbsolute(inRepo)) return 'points outside the repository';
  if (!existsSync(absolute)) return 'no such file';
  if (anchor !== null && absolute.endsWith('.md') && statSync(absolute).isFile()) {
    const text = read(inRepo);
    if (text === null || !anchors(text).has(anchor)) return `no heading #${anchor}`;
  }
  return null;
}

const readPage = (path: string): string | null => {
  const file = join(ROOT, path);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
};

describe('the documentation', () => {
  const checked = pages();

  it('checks the pages the repository has', () => {
    for (const page of [
      'README.md',
      'CHANGELOG.md',
      'bench/README.md',
      'docs/api-guide.md',
      'docs/banking.md',
      'docs/operations.md',
      'docs/security.md',
      'examples/typed-client/README.md',
    ])
      expect(checked).toContain(page);
  });

  it('has every relative link resolve to a file of the repository, and every #anchor to a heading', () => {
    const broken: string[] = [];
    let relativeLinks = 0;
    for (const page of checked) {
      for (const target of linkTargets(readPage(page)!)) {
        if (!/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//')) relativeLinks++;
        const problem = brokenLink(page, target, readPage);
        if (problem) broken.push(`${page}: (${target}) ${problem}`);
      }
    }
    expect(broken).toEqual([]);
    expect(relativeLinks).toBeGreaterThan(20); // the pages link to each other: the check saw them
  });

  it('has the table of error codes written from the one list in the code (npm run docs:errors)', () => {
    const path = join(ROOT, 'docs/api-guide.md');
    const guide = readFileSync(path, 'utf8');
    const [begin, finish] = [guide.indexOf(TABLE_BEGIN), guide.indexOf(TABLE_END)];
    expect(begin).toBeGreaterThan(guide.search(/^#{2,6}\s+Error codes\s*$/m));
    expect(finish).toBeGreaterThan(begin);
    const written = guide.slice(begin + TABLE_BEGIN.length, finish);
    const table = `\n\n${errorCodeTable()}\n\n`;
    if (process.env.DOCS_WRITE === '1' && written !== table) {
      writeFileSync(path, guide.slice(0, begin + TABLE_BEGIN.length) + table + guide.slice(finish));
    } else {
      expect(written).toBe(table); // else: npm run docs:errors
    }

    const rows = [...table.matchAll(/^\| `([A-Z_]+)` +\| (\d{3}) +\| (.+?) +\|$/gm)];
    expect(rows.map((r) => [r[1], Number(r[2])])).toEqual(Object.entries(ERROR_CODES));
    for (const row of rows) expect(row[3]).toMatch(/\w{3,}/);
    // The codes the OpenAPI document promises clients are these.
    const openapi = JSON.parse(readPage('openapi.json')!) as {
      components: { schemas: { ProblemDetailsDto: { properties: { code: { enum: string[] } } } } };
    };
    const promised = openapi.components.schemas.ProblemDetailsDto.properties.code.enum;
    expect(promised).toEqual(Object.keys(ERRORS));
  });

  describe('the link check itself', () => {
    const pagesOf: Record<string, string> = {
      'docs/a.md': '# Title\n\n## The `npm run bench` part: fast!\n\n## Title\n',
    };
    const read = (path: string) => pagesOf[path] ?? readPage(path);

    it('finds links and leaves code alone', () => {
      const text = [
        'See [the guide](docs/api-guide.md#paging "title") and ![a](x.png).',
        '`[not](a-link.md)`',
        '```',
        '[not](either.md)',
        '```',
        '[ref]: ../CHANGELOG.md',
        '<a href="docs/banking.md">banking</a>',
      ].join('\n');
      expect(linkTargets(text)).toEqual([
        'docs/api-guide.md#paging',
        'x.png',
        '../CHANGELOG.md',
        'docs/banking.md',
      ]);
    });

    it("makes GitHub's slugs", () => {
      expect(slug("`npm run bench`: throughput against PostgreSQL's own limits")).toBe(
        'npm-run-bench-throughput-against-postgresqls-own-limits',
      );
      expect(slug('Retrying safely: Idempotency-Key')).toBe('retrying-safely-idempotency-key');
      expect(slug('`DATA_DIR` and _emphasis_ [linked](x.md)')).toBe('data_dir-and-emphasis-linked');
      expect([...anchors(pagesOf['docs/a.md'])]).toEqual([
        'title',
        'the-npm-run-bench-part-fast',
        'title-1',
      ]);
    });

    it('refuses a missing file, a missing heading and a path out of the repository', () => {
      expect(brokenLink('README.md', 'docs/no-such-page.md', read)).toBe('no such file');
      expect(brokenLink('README.md', 'docs/api-guide.md#no-such-heading', read)).toBe(
        'no heading #no-such-heading',
      );
      expect(brokenLink('docs/api-guide.md', '#no-such-heading', read)).toBe(
        'no heading #no-such-heading',
      );
      expect(brokenLink('README.md', '../shared/README.md', read)).toBe(
        'points outside the repository',
      );
      expect(brokenLink('README.md', 'docs/api-guide.md#error-codes', read)).toBeNull();
      expect(brokenLink('README.md', 'https://example.org/x', read)).toBeNull();
    });
  });
});
