/**
 * IotProvisioningRegistry on AWS IoT Core: IoT policies, thing groups and JITP provisioning templates
 * (docs/iot-provisioning.md). ResourceNotFound becomes undefined (or success for a detach or removal),
 * ResourceAlreadyExists success; a policy or template at AWS IoT's five versions loses its oldest
 * non-default version before the new default is created.
 */
import type { IoTClient } from '@aws-sdk/client-iot';
import type { IotProvisioningRegistry } from '../../app/ports';
import { type IotCall, type IotCallOptions, iotCaller, nameOf } from './call';
import { iotSdk } from './sdk';

export interface IotProvisioningOptions extends IotCallOptions {
  client: IoTClient;
}

const NOT_FOUND = 'ResourceNotFoundException';
const EXISTS = 'ResourceAlreadyExistsException';
const VERSIONS_LIMIT = 'VersionsLimitExceededException';

/** undefined when AWS IoT answers that the resource is not there. */
async function unlessMissing<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (nameOf(error) === NOT_FOUND) return undefined;
    throw error;
  }
}

/**
 * Creates a new default version; at AWS IoT's limit of five versions, deletes the oldest version that
 * is not the default, then creates it again.
 */
async function withVersionRoom(
  create: () => Promise<unknown>,
  versions: () => Promise<{ id: string; isDefault: boolean; created: number }[]>,
  remove: (id: string) => Promise<unknown>,
): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (nameOf(error) !== VERSIONS_LIMIT) throw error;
    const oldest = (await versions()).filter((v) => !v.isDefault).sort((a, b) => a.created - b.created)[0];
    if (!oldest) throw error;
    await remove(oldest.id);
    await create();
  }
}

export function iotProvisioning({ client, ...options }: IotProvisioningOptions): IotProvisioningRegistry {
  const call: IotCall = iotCaller(options);
  // The SDK's commands, loaded with the client (sdk.ts), not at module load.
  const {
    AddThingToThingGroupCommand,
    AttachPolicyCommand,
    CreatePolicyCommand,
    CreatePolicyVersionCommand,
    CreateProvisioningTemplateCommand,
    CreateProvisioningTemplateVersionCommand,
    CreateThingGroupCommand,
    DeletePolicyVersionCommand,
    DeleteProvisioningTemplateVersionCommand,
    DescribeProvisioningTemplateCommand,
    DescribeThingGroupCommand,
    DetachPolicyCommand,
    GetPolicyCommand,
    ListPolicyVersionsCommand,
    ListProvisioningTemplateVersionsCommand,
    RemoveThingFromThingGroupCommand,
  } = iotSdk();
  return {
    async getPolicy(policyName) {
      const out = await unlessMissing(call('GetPolicy', () => client.send(new GetPolicyCommand({ policyName }))));
      return out ? { document: out.policyDocument ?? '' } : undefined;
    },

    async createPolicy(policyName, policyDocument) {
      try {
        await call('CreatePolicy', () => client.send(new CreatePolicyCommand({ policyName, policyDocument })));
        return 'created';
      } catch (error) {
        if (nameOf(error) === EXISTS) return 'exists';
        throw error;
      }
    },

    async setPolicyDocument(policyName, policyDocument) {
      await withVersionRoom(
        () =>
          call('CreatePolicyVersion', () =>
            client.send(new CreatePolicyVersionCommand({ policyName, policyDocument, setAsDefault: true })),
          ),
        async () => {
          const out = await call('ListPolicyVersions', () =>
            client.send(new ListPolicyVersionsCommand({ policyName })),
          );
          return (out.policyVersions ?? []).map((v) => ({
            id: v.versionId ?? '',
            isDefault: v.isDefaultVersion === true,
            created: v.createDate?.getTime() ?? 0,
          }));
        },
        (policyVersionId) =>
          call('DeletePolicyVersion', () =>
            client.send(new DeletePolicyVersionCommand({ policyName, policyVersionId })),
          ),
      );
    },

    async attachPolicy(policyName, target) {
      await call('AttachPolicy', () => client.send(new AttachPolicyCommand({ policyName, target })));
    },

    async detachPolicy(policyName, target) {
      await unlessMissing(call('DetachPolicy', () => client.send(new DetachPolicyCommand({ policyName, target }))));
    },

    async thingGroupExists(thingGroupName) {
      const out = await unlessMissing(
        call('DescribeThingGroup', () => client.send(new DescribeThingGroupCommand({ thingGroupName }))),
      );
      return out !== undefined;
    },

    async createThingGroup(thingGroupName) {
      try {
        await call('CreateThingGroup', () => client.send(new CreateThingGroupCommand({ thingGroupName })));
      } catch (error) {
        if (nameOf(error) !== EXISTS) throw error;
      }
    },

    async addThingToGroup(thingGroupName, thingName) {
      await call('AddThingToThingGroup', () =>
        client.send(new AddThingToThingGroupCommand({ thingGroupName, thingName })),
      );
    },

    async removeThingFromGroup(thingGroupName, thingName) {
      await unlessMissing(
        call('RemoveThingFromThingGroup', () =>
          client.send(new RemoveThingFromThingGroupCommand({ thingGroupName, thingName })),
        ),
      );
    },

    async describeTemplate(templateName) {
      const out = await unlessMissing(
        call('DescribeProvisioningTemplate', () =>
          client.send(new DescribeProvisioningTemplateCommand({ templateName })),
        ),
      );
      if (!out) return undefined;
      return { body: out.templateBody ?? '', ...(out.provisioningRoleArn ? { roleArn: out.provisioningRoleArn } : {}) };
    },

    async createTemplate({ name, body, roleArn, description }) {
      try {
        await call('CreateProvisioningTemplate', () =>
          client.send(
            new CreateProvisioningTemplateCommand({
              templateName: name,
              templateBody: body,
              provisioningRoleArn: roleArn,
              enabled: true,
              type: 'JITP',
              ...(description ? { description } : {}),
            }),
          ),
        );
      } catch (error) {
        if (nameOf(error) !== EXISTS) throw error;
      }
    },

    async setTemplateBody(templateName, templateBody) {
      await withVersionRoom(
        () =>
          call('CreateProvisioningTemplateVersion', () =>
            client.send(
              new CreateProvisioningTemplateVersionCommand({ templateName, templateBody, setAsDefault: true }),
            ),
          ),
        async () => {
          const out = await call('ListProvisioningTemplateVersions', () =>
            client.send(new ListProvisioningTemplateVersionsCommand({ templateName })),
          );
          return (out.versions ?? []).map((v) => ({
            id: String(v.versionId ?? ''),
            isDefault: v.isDefaultVersion === true,
            created: v.creationDate?.getTime() ?? 0,
          }));
        },
        (id) =>
          call('DeleteProvisioningTemplateVersion', () =>
            client.send(new DeleteProvisioningTemplateVersionCommand({ templateName, versionId: Number(id) })),
          ),
      );
    },
  };
}
