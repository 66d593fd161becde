/**
 * Hash routes (`#/devices?filter=...`): the whole view lives in the URL, so it can be shared and the
 * back button walks through it. Hash routing keeps the static hosting trivial: CloudFront serves
 * one index.html and never has to rewrite unknown paths (which would also swallow the API's 404s).
 */
import { useEffect, useState } from 'preact/hooks';
import { parseHash, type Route } from './hash-route';

export { href, parseHash, type Route } from './hash-route';

export function navigate(target: string): void {
  location.hash = target.replace(/^#/, '');
}

function sameRoute(route: Route, hash: string): boolean {
  const next = parseHash(hash);
  return next.path.join('/') === route.path.join('/') && next.query.toString() === route.query.toString();
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () =>
      setRoute((current) => (sameRoute(current, location.hash) ? current : parseHash(location.hash)));
    window.addEventListener('hashchange', update);
    // The URL may have changed between the first render and now (the sign-in redirect replaces it).
    update();
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
