"""OAuth2 for national systems: client registration, Authlib's authorization server (client
credentials, revocation, introspection) and the bearer-token check for machine clients."""
