/** Where the dashboard is built; read by the build, the local server and the stack's deployment. */
import path from 'node:path';

export const DASHBOARD_SOURCE = path.join(__dirname, 'src');
export const DASHBOARD_DIST = path.join(__dirname, 'dist');
