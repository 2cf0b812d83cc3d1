export { GetProfileCommand, GetTrustAnchorCommand, RolesAnywhereClient } from "@aws-sdk/client-rolesanywhere";
