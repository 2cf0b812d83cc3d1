/** Names of the step state the main step saves for the post step. */
export const STATE = { exported: "exported", profile: "profile" } as const;
