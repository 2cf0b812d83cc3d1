// What admin commands send to STS, alone: a bundle keeps these and drops the rest of the package.
export { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
