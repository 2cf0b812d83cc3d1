import type { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { awsSdk } from "../sdk/index.ts";
import type { CloudFormationPort, StackChange } from "./deploy.ts";

const isMissing = (e: unknown) =>
  e instanceof Error && /does not exist|ChangeSetNotFound/i.test(`${e.name} ${e.message}`);

/**
 * The engine's {@link CloudFormationPort} over an AWS SDK v3 CloudFormation client (built by the app).
 * @public
 */
export function fromCloudFormationClient(client: Pick<CloudFormationClient, "send">): CloudFormationPort {
  return {
    async describeStack(stackName) {
      try {
        const { Stacks } = await client.send(
          new (await awsSdk.cloudFormation()).DescribeStacksCommand({ StackName: stackName }),
        );
        const s = Stacks?.[0];
        if (!s) return undefined;
        return {
          stackId: s.StackId ?? "",
          status: s.StackStatus ?? "UNKNOWN",
          statusReason: s.StackStatusReason,
          outputs: Object.fromEntries((s.Outputs ?? []).map((o) => [o.OutputKey ?? "", o.OutputValue ?? ""])),
        };
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
    },
    async describeStackEvents(stackName) {
      try {
        const { StackEvents } = await client.send(
          new (await awsSdk.cloudFormation()).DescribeStackEventsCommand({ StackName: stackName }),
        );
        return (StackEvents ?? []).map((e) => ({
          eventId: e.EventId ?? "",
          timestamp: e.Timestamp ?? new Date(0),
          logicalResourceId: e.LogicalResourceId ?? "",
          resourceType: e.ResourceType ?? "",
          status: e.ResourceStatus ?? "",
          reason: e.ResourceStatusReason,
        }));
      } catch (e) {
        if (isMissing(e)) return [];
        throw e;
      }
    },
    async createChangeSet(input) {
      try {
        await client.send(
          new (await awsSdk.cloudFormation()).CreateChangeSetCommand({
            StackName: input.stackName,
            ChangeSetName: input.changeSetName,
            ChangeSetType: input.type,
            TemplateBody: input.templateBody,
            Parameters: Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({
              ParameterKey,
              ParameterValue,
            })),
            Tags: Object.entries(input.tags).map(([Key, Value]) => ({ Key, Value })),
            Capabilities: input.capabilities as never,
          }),
        );
        return "created";
      } catch (e) {
        // Some implementations refuse an empty update up front instead of failing the change set.
        if (e instanceof Error && /No updates are to be performed/i.test(e.message)) return "no-changes";
        throw e;
      }
    },
    async describeChangeSet(stackName, changeSetName) {
      const cs = await client.send(
        new (await awsSdk.cloudFormation()).DescribeChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
        }),
      );
      const changes: StackChange[] = (cs.Changes ?? []).map((c) => ({
        action: c.ResourceChange?.Action ?? "",
        logicalResourceId: c.ResourceChange?.LogicalResourceId ?? "",
        resourceType: c.ResourceChange?.ResourceType ?? "",
        replacement: c.ResourceChange?.Replacement,
      }));
      return { status: cs.Status ?? "UNKNOWN", statusReason: cs.StatusReason, changes };
    },
    async executeChangeSet(stackName, changeSetName) {
      await client.send(
        new (await awsSdk.cloudFormation()).ExecuteChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
        }),
      );
    },
    async deleteChangeSet(stackName, changeSetName) {
      await client.send(
        new (await awsSdk.cloudFormation()).DeleteChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
        }),
      );
    },
    async deleteStack(stackName) {
      await client.send(new (await awsSdk.cloudFormation()).DeleteStackCommand({ StackName: stackName }));
    },
  };
}
