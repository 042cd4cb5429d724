"""Single sign-on through a state's own OpenID Connect provider (Authlib's client).

The provider proves who the person is; the portal still decides what they may do: only an
existing, active account of that state, matched by its verified e-mail and bound to the
provider's subject, and the portal's second factor unless the state accepts the provider's.
"""
