"""Pure cryptography for signed, encrypted attachments (no Flask, no database).

Modules:
    errors      -- exception hierarchy rooted at ``CryptoError``
    keyprovider -- where the master key comes from (key file, environment, later a KMS)
    keys        -- state key pairs, wrapping them under the master key, fingerprints
    stream      -- chunked AES-256-GCM STREAM encryption of attachment content
    wrap        -- HPKE (RFC 9180) wrapping of per-attachment data keys
    manifest    -- canonical manifest bytes, Ed25519 signatures, offline-verifiable bundles

Import the submodule you need; nothing heavy is imported here.
"""
