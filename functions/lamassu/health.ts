/**
 * Lamassu's health body (backend/pkg/controllers/healtcheck.go): `health`, `version`, `build`,
 * `build_time`. `build` is empty: Lamassu's dashboard then shows no build line, where a build
 * without an RFC 3339 `build_time` would break its date formatting. Its own module, so only the
 * health function bundles package.json.
 */
import pkg from '../../package.json';

export function lamassuHealth() {
  return { health: true, version: pkg.version, build: '', build_time: '' };
}
