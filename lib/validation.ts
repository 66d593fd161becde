/**
 * The policy validation plugins every synth runs (bin/app.ts), beside cdk-nag: cfn-guard with AWS
 * Control Tower's proactive controls (`@cdklabs/cdk-validator-cfnguard`, which ships the cfn-guard
 * binary for Linux and macOS on x64 and arm64). A finding fails synth unless acknowledged with
 * `Validations.of(construct).acknowledge({ id: cfnGuard('<rule>'), reason })`, each with its reason.
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { type IConstruct } from 'constructs';
import { Validations } from 'aws-cdk-lib';

export const CFN_GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** The acknowledgement id of a cfn-guard rule (the id its report prints). */
export const cfnGuard = (rule: string) => `${CFN_GUARD_PLUGIN}::${rule}`;

export function cfnGuardValidator(): CfnGuardValidator {
  return new CfnGuardValidator({});
}

/** Acknowledges cfn-guard rules on a construct (and what it contains). */
export function acknowledgeGuard(scope: IConstruct, rules: Record<string, string>): void {
  Validations.of(scope).acknowledge(...Object.entries(rules).map(([rule, reason]) => ({ id: cfnGuard(rule), reason })));
}

/** Reasons shared by several constructs. */
export const GUARD_REASONS = {
  lambda_inside_vpc_check:
    'The function reaches only AWS service endpoints (DynamoDB, ' +
    'EventBridge, SQS, IoT, Secrets Manager) over TLS with IAM, ' +
    'and the configured https CA; there is nothing in a VPC to ' +
    'reach, and a VPC would add NAT or endpoint cost and ENI setup ' +
    'for no isolation gain.',
  cloudwatch_log_group_retention_period_check:
    'Retention is the deployment setting logRetentionDays (default ' +
    '30 days, any CloudWatch value up to 10 years): operators ' +
    'who must keep logs a year or more set it so.',
  cloudwatch_log_group_encrypted_check:
    'CloudWatch Logs encrypts log data at rest with service keys; ' +
    'these logs carry no secrets (tokens, secrets and private ' +
    'keys are never logged), so a customer-managed key would add ' +
    'KMS cost and key policy wiring without protecting more.',
} as const;
