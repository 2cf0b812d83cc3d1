// Bench reference, not product code: the work the Action's main step must do, written flat with
// nothing else. It masks the key lines, checks that the key and certificate match and that the
// certificate is in date, signs and sends CreateSession (SigV4-X509), masks the credentials,
// checks them with STS GetCallerIdentity (SigV4), and appends the file commands. It has no input
// validation, no retries, no proxy support and no error wording. bench/action.mjs times it next
// to the step: the gap between the two is what that production code costs at start-up. It reads
// the same INPUT_* variables as the step.
const crypto = require("node:crypto");
const http = require("node:http");
const fs = require("node:fs");

const env = process.env;
const input = (name) => env[`INPUT_${name.toUpperCase()}`] ?? "";
const out = (line) => process.stdout.write(`${line}\n`);
const keyPem = input("private-key");
out(`::add-mask::${keyPem.trim().replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}`);
for (const line of keyPem.trim().split("\n")) if (!line.startsWith("-----")) out(`::add-mask::${line}`);

const roleArn = input("role-to-assume");
const trustAnchorArn = input("trust-anchor-arn");
const profileArn = input("profile-arn");
const endpoint = new URL(input("endpoint"));
const der = Buffer.from(input("certificate").replace(/-----[^-]+-----|\s/g, ""), "base64");
const cert = new crypto.X509Certificate(der);
const key = crypto.createPrivateKey(keyPem);
if (!cert.checkPrivateKey(key)) throw new Error("the key does not match the certificate");
if (Date.now() > Date.parse(cert.validTo)) throw new Error("the certificate expired");
out(`Signing CreateSession with certificate ${cert.subject.replace(/\n/g, ", ")}`);

const amzDate = () =>
  new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
const sha256 = (data) => crypto.createHash("sha256").update(data).digest("hex");
const encode = (v) =>
  encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const region = trustAnchorArn.split(":")[3];
const post = (path, headers, body) =>
  new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, endpoint),
      { method: "POST", headers: { ...headers, "content-length": Buffer.byteLength(body) } },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve([res.statusCode, Buffer.concat(chunks).toString()]));
      },
    );
    req.on("error", reject);
    req.end(body);
  });

async function main() {
  const date = amzDate();
  const query = `profileArn=${encode(profileArn)}&roleArn=${encode(roleArn)}&trustAnchorArn=${encode(trustAnchorArn)}`;
  const body = JSON.stringify({ durationSeconds: 3600 });
  const x509 = der.toString("base64");
  const algorithm = key.asymmetricKeyType === "rsa" ? "AWS4-X509-RSA-SHA256" : "AWS4-X509-ECDSA-SHA256";
  const signed = "content-type;host;x-amz-date;x-amz-x509";
  const canonical = `POST\n/sessions\n${query}\ncontent-type:application/json\nhost:${endpoint.host}\nx-amz-date:${date}\nx-amz-x509:${x509}\n\n${signed}\n${sha256(body)}`;
  const scope = `${date.slice(0, 8)}/${region}/rolesanywhere/aws4_request`;
  const signature = crypto
    .sign("sha256", Buffer.from(`${algorithm}\n${date}\n${scope}\n${sha256(canonical)}`), key)
    .toString("hex");
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10);
  const [status, text] = await post(
    `/sessions?${query}`,
    {
      "content-type": "application/json",
      host: endpoint.host,
      "x-amz-date": date,
      "x-amz-x509": x509,
      authorization: `${algorithm} Credential=${serial}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
    },
    body,
  );
  if (status !== 201 && status !== 200) throw new Error(`CreateSession: HTTP ${status} ${text}`);
  const c = JSON.parse(text).credentialSet[0].credentials;
  for (const v of [c.accessKeyId, c.secretAccessKey, c.sessionToken]) out(`::add-mask::${v}`);

  const stsDate = amzDate();
  const stsBody = "Action=GetCallerIdentity&Version=2011-06-15";
  const headers = {
    "content-type": "application/x-www-form-urlencoded; charset=utf-8",
    host: endpoint.host,
    "x-amz-date": stsDate,
    "x-amz-security-token": c.sessionToken,
  };
  const names = Object.keys(headers).sort();
  const stsCanonical = `POST\n/\n\n${names.map((n) => `${n}:${headers[n]}`).join("\n")}\n\n${names.join(";")}\n${sha256(stsBody)}`;
  const stsScope = `${stsDate.slice(0, 8)}/${region}/sts/aws4_request`;
  const hmac = (k, d) => crypto.createHmac("sha256", k).update(d).digest();
  let signingKey = hmac(`AWS4${c.secretAccessKey}`, stsDate.slice(0, 8));
  for (const part of [region, "sts", "aws4_request"]) signingKey = hmac(signingKey, part);
  const stsSignature = hmac(
    signingKey,
    `AWS4-HMAC-SHA256\n${stsDate}\n${stsScope}\n${sha256(stsCanonical)}`,
  ).toString("hex");
  const [stsStatus, xml] = await post(
    "/",
    {
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${c.accessKeyId}/${stsScope}, SignedHeaders=${names.join(";")}, Signature=${stsSignature}`,
    },
    stsBody,
  );
  if (stsStatus !== 200) throw new Error(`GetCallerIdentity: HTTP ${stsStatus} ${xml}`);
  const account = /<Account>([^<]*)</.exec(xml)[1];
  const arn = /<Arn>([^<]*)</.exec(xml)[1];

  const entry = (name, value) => {
    const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
    return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  };
  fs.appendFileSync(env.GITHUB_STATE, entry("exported", '["AWS_ACCESS_KEY_ID"]'));
  fs.appendFileSync(
    env.GITHUB_ENV,
    entry("AWS_ACCESS_KEY_ID", c.accessKeyId) +
      entry("AWS_SECRET_ACCESS_KEY", c.secretAccessKey) +
      entry("AWS_SESSION_TOKEN", c.sessionToken) +
      entry("AWS_REGION", region) +
      entry("AWS_DEFAULT_REGION", region),
  );
  fs.appendFileSync(
    env.GITHUB_OUTPUT,
    entry("aws-account-id", account) + entry("authenticated-arn", arn) + entry("expiration", c.expiration),
  );
  out(`Authenticated as ${arn}`);
}
main();
