/**
 * cdk-nag names a finding by the resource as it appears in the template: a pseudo parameter is
 * written `<AWS::Region>` while the stack is environment-agnostic, and as its value once the stack
 * has a concrete account and region (`cdk deploy` resolves them; bin/app.ts passes them on). An
 * acknowledgement id built with this helper matches in both cases.
 */
import { type Stack, Token } from 'aws-cdk-lib';

export interface NagPseudo {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

/** The partition, region and account of a stack as cdk-nag writes them in a finding id. */
export function nagPseudo(stack: Stack): NagPseudo {
  const written = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
  return {
    partition: written(stack.partition, 'Partition'),
    region: written(stack.region, 'Region'),
    account: written(stack.account, 'AccountId'),
  };
}
