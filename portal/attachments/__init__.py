"""Signed, encrypted attachments of shared items.

    content    file names, the type allow-list checked against content, safe headers
    storage    server-named files landed atomically (temporary file, fsync, rename)
    service    store (encrypt, sign, wrap per audience state), sync_wraps, attachments_for
    download   verify before a byte leaves, stream, signature bundles
    multipart  reading the upload body as a stream
    web        HTTP helpers shared by routes (pages) and api (/api/v1)
"""
