import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { CloudFormationClient, CreateStackCommand } from "@aws-sdk/client-cloudformation";
import { describe, expect, it, onTestFinished } from "vitest";
import { motoRolesAnywhereLauncher, startMoto } from "../src/testing/index.ts";
import { motoClientConfig } from "./moto-harness.ts";

const exec = promisify(execFile);
const PLUGIN = fileURLToPath(new URL("../moto/", import.meta.url));
const REQUIREMENTS = fileURLToPath(new URL("../moto/requirements.txt", import.meta.url));
/** A PYTHONPATH entry whose `moto` is the installed one under the version in IAM_RA_TEST_MOTO_VERSION. */
const FAKE_MOTO = fileURLToPath(new URL("./fixtures/fake-moto", import.meta.url));
const fakeVersion = (version: string) => ({ PYTHONPATH: FAKE_MOTO, IAM_RA_TEST_MOTO_VERSION: version });

describe("the moto plugin's launcher", () => {
  it("passes its Python unit tests (python3 -m unittest)", async () => {
    const { stderr } = await exec("python3", ["-m", "unittest", "discover", "-s", "tests", "-t", "."], {
      cwd: PLUGIN,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1" },
    });
    expect(stderr).toMatch(/^Ran [1-9]\d* tests? in .*\n\nOK\n$/m);
  });

  it("refuses a moto outside the supported versions, saying which and how to install it", async () => {
    const result = await exec("python3", [motoRolesAnywhereLauncher, "-H", "127.0.0.1", "-p", "1"], {
      env: { ...process.env, ...fakeVersion("4.2.14") },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result).toEqual({
      code: 2,
      stderr:
        "iam-ra moto plugin: moto 4.2.14 is installed, but this plugin supports moto >=5.2.1,<5.3 (tested with 5.2.1).\n" +
        `Install the supported version: pip install -r ${REQUIREMENTS}\n` +
        "(or set IAM_RA_MOTO_ANY_VERSION=1 to run with moto 4.2.14 anyway, at your own risk).\n",
    });
  });

  it("startMoto fails with the launcher's message", async () => {
    await expect(startMoto({ cloudFormationFixes: true, env: fakeVersion("6.0.0") })).rejects.toThrow(
      /^moto_server exited before answering \(2\): iam-ra moto plugin: moto 6\.0\.0 is installed, .*\nInstall the supported version: pip install -r .*requirements\.txt\n/,
    );
  });

  it("IAM_RA_MOTO_ANY_VERSION=1 starts it anyway; without an emulator URL a Roles Anywhere resource fails", async () => {
    const moto = await startMoto({
      cloudFormationFixes: true,
      env: { ...fakeVersion("6.0.0"), IAM_RA_MOTO_ANY_VERSION: "1" },
    });
    onTestFinished(() => moto.close());
    const cfn = new CloudFormationClient(motoClientConfig(moto));
    onTestFinished(() => cfn.destroy());
    const template = {
      Resources: {
        Anchor: {
          Type: "AWS::RolesAnywhere::TrustAnchor",
          Properties: { Source: { SourceType: "AWS_ACM_PCA", SourceData: { AcmPcaArn: "arn:x" } } },
        },
      },
    };
    await expect(
      cfn.send(new CreateStackCommand({ StackName: "no-emulator", TemplateBody: JSON.stringify(template) })),
    ).rejects.toThrow(/IAM_RA_EMULATOR_URL is not set: this moto has no Roles Anywhere endpoint to call\./);
  });
});
