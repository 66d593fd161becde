/** The Device Manager service: one table, one HTTP API with a function per route, the status sweeper. */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { HTTP_ROUTES } from '../functions/http/routes';
import type { DeploymentConfig } from './config';
import { AlarmActions } from './constructs/alarm-actions';
import { acknowledgeGuard } from './validation';
import { DeviceApi } from './constructs/api';
import { CaRevocation } from './constructs/ca-revocation';
import { Dashboard } from './constructs/dashboard';
import { DeviceTable } from './constructs/device-table';
import { CounterApplier } from './constructs/counters';
import { DeviceEvents } from './constructs/events';
import { IotSync } from './constructs/iot-sync';
import { Presence, presenceEnabled } from './constructs/presence';
import { Monitoring } from './constructs/monitoring';
import { ServiceFunction } from './constructs/service-function';
import { Sweeper } from './constructs/sweeper';
import { ImportFiles } from './constructs/imports';

export interface DeviceManagerStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

export class DeviceManagerStack extends Stack {
  readonly table: DeviceTable;
  readonly api: DeviceApi;
  readonly sweeper: Sweeper;
  readonly monitoring: Monitoring;
  readonly events: DeviceEvents;
  readonly counters: CounterApplier;
  readonly imports: ImportFiles;
  /** Only when iotSync.enabled. */
  readonly iotSync?: IotSync;
  /** Only when iotSync.enabled and iotSync.presence (default true). */
  readonly presence?: Presence;
  /** Only when caApiUrl is set (with lamassuEvents). */
  readonly caRevocation?: CaRevocation;
  /** Only when dashboard.enabled. */
  readonly dashboard?: Dashboard;
  /** Only when the `alarms` setting is given. */
  readonly alarmActions?: AlarmActions;

  constructor(scope: Construct, id: string, props: DeviceManagerStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.table = new DeviceTable(this, 'DeviceTable', { removalPolicy: config.removalPolicy });
    this.api = new DeviceApi(this, 'Api', { config, table: this.table.table });
    this.sweeper = new Sweeper(this, 'Sweeper', { config, table: this.table.table });
    // Routes that start background work (a remediation job) send its first task to the jobs queue only.
    for (const route of HTTP_ROUTES.filter((r) => r.sendsTasks)) {
      const fn = this.api.functions.get(route.handler);
      if (!fn) continue;
      fn.function.addEnvironment('SWEEP_QUEUE_URL', this.sweeper.transitionsQueue.queueUrl);
      fn.function.addEnvironment('JOB_QUEUE_URL', this.sweeper.jobsQueue.queueUrl);
      Grant.addToPrincipal({
        grantee: fn.role,
        actions: ['sqs:SendMessage'],
        resourceArns: [this.sweeper.jobsQueue.queueArn],
      });
    }
    this.events = new DeviceEvents(this, 'Events', { config, table: this.table.table });
    this.imports = new ImportFiles(this, 'Imports', {
      config,
      routes: ['create-import', 'start-import'].map((handler) => this.api.functions.get(handler)!),
      worker: this.sweeper.worker,
    });
    this.counters = new CounterApplier(this, 'Counters', { config, table: this.table.table });
    if (config.iotSync.enabled)
      this.iotSync = new IotSync(this, 'IotSync', { config, table: this.table.table, bus: this.events.bus });
    if (presenceEnabled(config)) this.presence = new Presence(this, 'Presence', { config, table: this.table.table });
    if (config.caApiUrl && config.lamassuEvents)
      this.caRevocation = new CaRevocation(this, 'CaRevocation', {
        config: { ...config, caApiUrl: config.caApiUrl },
        table: this.table.table,
        bus: this.events.bus,
      });
    if (config.dashboard.enabled)
      this.dashboard = new Dashboard(this, 'Dashboard', {
        config,
        api: this.api.httpApi,
        apiDomainName: this.api.domainName?.name,
      });
    const apiFunctions = [...this.api.functions.values()].map((f) => f.function);
    const sweeper = this.sweeper.function.function;
    // Every function of the stack is alarmed, including those added after this was written.
    const allFunctions = this.node
      .findAll()
      .filter((c): c is ServiceFunction => c instanceof ServiceFunction)
      .map((f) => f.function);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      config,
      api: this.api.httpApi,
      apiFunctions,
      sweeper,
      otherFunctions: allFunctions.filter((f) => f !== sweeper && !apiFunctions.includes(f)),
      publisher: this.events.publisher.function,
    });

    if (config.alarms)
      this.alarmActions = new AlarmActions(this, 'AlarmActions', {
        alarms: config.alarms,
        stageName: config.stageName,
      });
    else {
      acknowledgeGuard(this, {
        cloudwatch_alarm_action_check:
          'This deployment gives no `alarms` setting, so its alarms ' +
          'have no action (they still change state and show on the dashboard); ' +
          'set alarms.topicArn or alarms.email and every alarm notifies ' +
          'that topic (docs/deployment.md).',
      });
    }

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.domainName ? `https://${this.api.domainName.name}/` : this.api.url,
      description: 'Base URL of the HTTP API; routes start with /v2',
    });
    if (this.api.domainName) {
      new CfnOutput(this, 'ApiDomainTarget', {
        value: this.api.domainName.regionalDomainName,
        description:
          `Point a DNS record (CNAME or alias) for ${config.dashboard.apiDomain?.name} ` +
          `here: the API answers only there`,
      });
    }
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName, description: 'The device table' });
    new CfnOutput(this, 'DashboardName', {
      value: this.monitoring.dashboard.dashboardName,
      description: 'CloudWatch dashboard of the service',
    });
    new CfnOutput(this, 'EventBusName', {
      value: this.events.bus.eventBusName,
      description: 'The bus of the lifecycle events (CloudEvents in Detail); subscribe with a rule on it',
    });
    if (this.dashboard)
      new CfnOutput(this, 'DashboardUrl', {
        value: this.dashboard.url,
        description: 'The web dashboard; the API is also served there under /v2',
      });
    new CfnOutput(this, 'SweeperFunctionName', {
      value: this.sweeper.function.function.functionName,
      description: 'The status sweeper; invoke it to sweep now',
    });
  }
}

/** The stack name of a stage. */
export function stackName(config: DeploymentConfig): string {
  return `DeviceManager-${config.stageName}`;
}
