/**
 * Names the webhook and the admin commands share, kept apart from the Kubernetes models so the
 * admin commands can name them without loading those.
 * @module
 */

/** The default namespace of the webhook. @public */
export const WEBHOOK_NAMESPACE = "iam-ra-system";
/** The name of the namespace-roles ConfigMap in the webhook's namespace. @public */
export const WEBHOOK_CONFIG_MAP_NAME = "iam-ra-webhook-namespace-roles";
