/**
 * Every relative link of the repository's Markdown resolves: the file (or directory) exists,
 * and a `#fragment` names a heading of the target file by GitHub's slug rules (github-slugger,
 * over the heading's rendered text) or an explicit `<a id>` / `<a name>` in it. So moving a
 * section, renaming a heading or splitting a file (docs/protocol.md into docs/protocol/) cannot
 * leave a link dangling. Links with a scheme (https:, mailto:) are not fetched.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'test-results', '.tmp', '.cache']);

function filesEndingWith(dir: string, extensions: string[]): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) ? [] : filesEndingWith(join(dir, entry.name), extensions);
    return extensions.some((e) => entry.name.endsWith(e)) ? [join(dir, entry.name)] : [];
  });
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(text: string): { line: string; n: number }[] {
  let fence: string | undefined;
  const out: { line: string; n: number }[] = [];
  text.split('\n').forEach((line, i) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) fence = fence === undefined ? marker : undefined;
    else if (fence === undefined) out.push({ line, n: i + 1 });
  });
  return out;
}

/** A heading's text as GitHub renders it: code spans, links, images and emphasis reduced to their text. */
function renderedText(heading: string): string {
  return heading
    .split('`')
    .map((part, i) =>
      i % 2 === 1
        ? part
        : part
            .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
            .replace(/<[^>]+>/g, '')
            .replace(/\*+|~~/g, ''),
    )
    .join('');
}

/** The fragments a Markdown file defines: heading slugs (deduplicated as GitHub does) and HTML ids. */
function anchorsOf(text: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  for (const { line } of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) anchors.add(slugger.slug(renderedText(heading)));
    for (const [, id = ''] of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(id);
  }
  return anchors;
}

/** Relative link targets of a Markdown text (inline links, images, reference definitions). */
function linksOf(text: string): { target: string; n: number }[] {
  const links: { target: string; n: number }[] = [];
  for (const { line, n } of proseLines(text)) {
    const prose = line.split('`').filter((_, i) => i % 2 === 0).join(' ');
    for (const [, target = ''] of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target, n });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/.exec(prose)?.[1];
    if (definition) links.push({ target: definition, n });
  }
  return links.filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** Problems with the relative links of `file` ("file:line → target: why"). */
function brokenLinks(file: string, anchorCache: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const { target, n } of linksOf(readFileSync(file, 'utf8'))) {
    const [path = '', fragment] = target.split('#', 2);
    const to = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
    const where = `${relative(root, file)}:${n} → ${target}`;
    if (!existsSync(to)) {
      problems.push(`${where}: no such file`);
      continue;
    }
    if (fragment === undefined || !to.endsWith('.md')) continue;
    let anchors = anchorCache.get(to);
    if (!anchors) anchorCache.set(to, (anchors = anchorsOf(readFileSync(to, 'utf8'))));
    if (!anchors.has(decodeURIComponent(fragment))) problems.push(`${where}: no heading or anchor #${fragment} in ${relative(root, to)}`);
  }
  return problems;
}

describe('Markdown links', () => {
  it.each([
    ['2.2 Server-sent events + `POST /v1/send`', '22-server-sent-events--post-v1send'],
    ['3.2 Client → hub', '32-client--hub'],
    ['`hello`: open or resume a session', 'hello-open-or-resume-a-session'],
    ['14.3 Manual / QR strings', '143-manual--qr-strings'],
    ['`GET /v1/rooms/{room}/peers`', 'get-v1roomsroompeers'],
    ['A [linked](x.md) **bold** heading', 'a-linked-bold-heading'],
  ])('slugs the heading %j as GitHub does: #%s', (heading, slug) => {
    expect(anchorsOf(`# ${heading}\n`)).toEqual(new Set([slug]));
  });

  it('numbers repeated headings, reads <a id>, and ignores headings and links in code', () => {
    const text = '# Error\n## Error\n<a id="old-name"></a>\n```md\n# Not a heading\n[x](missing.md)\n```\nSee `[y](missing.md)` and [z](other.md#a "title").\n';
    expect(anchorsOf(text)).toEqual(new Set(['error', 'error-1', 'old-name']));
    expect(linksOf(text).map((l) => l.target)).toEqual(['other.md#a']);
  });

  const files = filesEndingWith(root, ['.md']);

  it('covers README.md and every file under docs/', () => {
    const names = files.map((f) => relative(root, f));
    expect(names).toContain('README.md');
    expect(names).toContain('docs/protocol.md');
    expect(names).toContain('docs/protocol/hub.md');
  });

  it('every relative link and #anchor in the repository Markdown resolves', () => {
    const cache = new Map<string, Set<string>>();
    expect(files.flatMap((f) => brokenLinks(f, cache))).toEqual([]);
  });

  it('every "docs/protocol/<file>.md §N" cited in code and docs names a section of that file', () => {
    const numbered = new Map<string, Set<string>>();
    const sectionsOf = (name: string): Set<string> => {
      let found = numbered.get(name);
      if (found) return found;
      const path = join(root, 'docs/protocol', `${name}.md`);
      const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
      found = new Set(proseLines(text).flatMap(({ line }) => /^#{2,6}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line)?.[1] ?? []));
      numbered.set(name, found);
      return found;
    };
    const problems: string[] = [];
    let citations = 0;
    for (const file of filesEndingWith(root, ['.ts', '.mjs', '.md', '.py', '.lua'])) {
      const text = readFileSync(file, 'utf8');
      // The path, then (maybe across a comment's line break) the first section cited.
      for (const m of text.matchAll(/\bprotocol(?:\/([a-z-]+))?\.md[\s*/#-]*§(\d+(?:\.\d+)*)/g)) {
        citations++;
        const [all, name, section = ''] = m;
        if (!name) problems.push(`${relative(root, file)}: "${all}" cites the index; name the file of §${section}`);
        else if (!sectionsOf(name).has(section)) problems.push(`${relative(root, file)}: "${all}": no section ${section} in docs/protocol/${name}.md`);
      }
    }
    expect(citations).toBeGreaterThan(30);
    expect(problems).toEqual([]);
  });
});
