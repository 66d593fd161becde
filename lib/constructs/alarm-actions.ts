/**
 * Setting `alarms`: every CloudWatch alarm of the stack notifies one SNS topic, an existing one
 * (`topicArn`) or one created here with an e-mail subscription (`email`). An aspect applies it at
 * synthesis, so an alarm added by any construct, at any time, gets the action too.
 */
import { Aspects, type IAspect, Validations } from 'aws-cdk-lib';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct, type IConstruct } from 'constructs';
import type { AlarmsConfig } from '../config';

class NotifyEveryAlarm implements IAspect {
  constructor(private readonly action: SnsAction) {}

  visit(node: IConstruct): void {
    if (node instanceof Alarm) node.addAlarmAction(this.action);
  }
}

export class AlarmActions extends Construct {
  readonly topic: ITopic;

  /** Wires every alarm under `scope` (the stack) to the topic of the setting. */
  constructor(scope: Construct, id: string, props: { alarms: AlarmsConfig; stageName: string }) {
    super(scope, id);
    const { alarms } = props;
    if ('topicArn' in alarms) this.topic = Topic.fromTopicArn(this, 'Topic', alarms.topicArn);
    else {
      const topic = new Topic(this, 'Topic', {
        displayName: `Device Manager (${props.stageName}) alarms`,
        enforceSSL: true,
      });
      topic.addSubscription(new EmailSubscription(alarms.email));
      Validations.of(topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with ' +
          'the AWS managed SNS key, and a customer-managed key only ' +
          'for this would cost more than what it protects: the messages ' +
          'are alarm state changes (names, thresholds), no device data. ' +
          'Give alarms.topicArn an encrypted topic of your own to have ' +
          'one.',
      });
      this.topic = topic;
    }
    Aspects.of(scope).add(new NotifyEveryAlarm(new SnsAction(this.topic)));
  }
}
