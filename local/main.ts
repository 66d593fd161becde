/**
 * `npm start`: the whole service on this machine. Starts the embedded DynamoDB engine (data kept in
 * ./.data unless IN_MEMORY=true), creates the table from the shared schema, and serves the real
 * Lambda handlers over HTTP on 127.0.0.1:$PORT. DYNAMODB_ENDPOINT points it at an existing DynamoDB.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createServices, setServices } from '../functions/shared/composition';
import { intVar, loadConfig } from '../functions/shared/config';
import { ensureTable } from './create-table';
import { startEngine, type Engine } from './engine';
import { startLocalServer } from './server';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface LocalServiceOptions {
  env?: Record<string, string | undefined>;
  /** Print where everything listens. */
  quiet?: boolean;
}

export interface LocalService {
  url: string;
  engine?: Engine;
  tableName: string;
  stop(): Promise<void>;
}

/** Starts engine (unless DYNAMODB_ENDPOINT is set), table and API; returns a handle to stop them. */
export async function startLocalService({ env = process.env, quiet = false }: LocalServiceOptions = {}): Promise<LocalService> {
  const say = (line: string) => quiet || console.log(line);
  // The SDK needs a region, and credentials even for the embedded engine (which ignores them).
  env.AWS_REGION ??= process.env.AWS_REGION ?? 'us-east-1';
  const tableName = (env.TABLE_NAME ??= 'device-manager-local');

  let engine: Engine | undefined;
  if (!env.DYNAMODB_ENDPOINT) {
    const inMemory = env.IN_MEMORY === 'true';
    const dataDir = inMemory ? undefined : (env.DATA_DIR ?? '.data/dynamodb');
    engine = await startEngine({ dataDir, port: intVar(env, 'DYNAMODB_PORT', 0, 0, 65535) });
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    env.DYNAMODB_ENDPOINT = engine.endpoint;
    say(`embedded DynamoDB engine on ${engine.endpoint} (${dataDir ? `data in ${dataDir}` : 'in memory'})`);
  }
  const config = loadConfig(env);
  const client = new DynamoDBClient({ region: config.region, endpoint: config.dynamodbEndpoint });
  const created = await ensureTable(client, tableName);
  client.destroy();
  say(`table ${tableName} ${created}`);

  setServices(createServices(config));
  const server = await startLocalServer({ port: intVar(env, 'PORT', 3000, 0, 65535), host: '127.0.0.1' });
  say(`device-manager API listening on ${server.url}/v2 (OpenAPI: ${server.url}/v2/openapi.json)`);

  return {
    url: server.url,
    engine,
    tableName,
    async stop() {
      await server.close();
      await engine?.stop();
      setServices(undefined);
    },
  };
}

if (require.main === module) {
  startLocalService()
    .then((service) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.log(`${signal}: stopping`);
        service.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    })
    .catch((error: unknown) => {
      console.error('device-manager failed to start:', error);
      process.exit(1);
    });
}
