/** The hash route parser, pure (no preact), so that it is testable on its own. */

export interface Route {
  /** Decoded path segments: `#/devices/a%2Fb` → ['devices', 'a/b']. */
  path: string[];
  query: URLSearchParams;
  /** A segment that is not valid percent-encoded UTF-8 (`%E0%A4%A`, `%`): the link is broken. */
  malformed?: string;
}

/** decodeURIComponent, or undefined where it would throw (URIError) on a hand-made link. */
function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/fleet';
  const at = raw.indexOf('?');
  const segments = (at < 0 ? raw : raw.slice(0, at)).split('/').filter(Boolean);
  const query = new URLSearchParams(at < 0 ? '' : raw.slice(at + 1));
  const path: string[] = [];
  for (const segment of segments) {
    const decoded = decodeSegment(segment);
    if (decoded === undefined) return { path: segments, query, malformed: segment };
    path.push(decoded);
  }
  return { path, query };
}

/** A link target: `href(['devices', id])`, `href(['devices'], query)`. */
export function href(path: string[], query?: URLSearchParams | Record<string, string>): string {
  const q = new URLSearchParams(query).toString();
  return `#/${path.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
}
