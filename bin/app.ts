/** CDK entry point: reads the deployment settings from context and instantiates the stack. */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext } from '../lib/config';
import { DeviceManagerStack, stackName } from '../lib/device-manager-stack';
import { cfnGuardValidator } from '../lib/validation';

const app = new App();
const config = configFromContext(app.node);

new DeviceManagerStack(app, stackName(config), {
  config,
  description: `Device Manager (${config.stageName}): device registry API on API Gateway, Lambda and DynamoDB`,
  // Environment-agnostic unless the CLI's profile resolves an account and region.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  tags: { service: 'device-manager', stage: config.stageName },
});

// cdk-nag 3 is a policy validation plugin: any unacknowledged finding fails synth. Acknowledgements
// are also written to the template's metadata (`cdk_nag.rules_to_suppress`) as an audit trail.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
// cfn-guard with AWS Control Tower's proactive controls (lib/validation.ts): a finding fails synth too,
// unless acknowledged on its construct with the reason.
Validations.of(app).addPlugins(cfnGuardValidator());
