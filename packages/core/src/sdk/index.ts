/**
 * The AWS SDK clients and commands the admin plane sends, each service's imported on its first use:
 * a command pays (loading, compiling) only for the services it calls. Each service module re-exports
 * only what is sent, so a bundler keeps that and drops the rest of the package.
 * @module
 */

/**
 * A loader of one module: the first call imports it, every call answers the same module. A
 * CommonJS module comes back as its `module.exports` (Node's `default` of a CommonJS import).
 * @public
 */
export function lazySdk<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load().then((m) => (m as { default?: T }).default ?? m);
    return loaded;
  };
}

/**
 * Loaders of the services the admin plane uses (client class and commands).
 * @public
 */
export const awsSdk = {
  acmPca: lazySdk(() => import("./acm-pca.ts")),
  cloudFormation: lazySdk(() => import("./cloudformation.ts")),
  kms: lazySdk(() => import("./kms.ts")),
  s3: lazySdk(() => import("./s3.ts")),
  secretsManager: lazySdk(() => import("./secrets-manager.ts")),
  ssm: lazySdk(() => import("./ssm.ts")),
};
